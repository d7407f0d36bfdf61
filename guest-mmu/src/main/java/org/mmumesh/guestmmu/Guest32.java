package org.mmumesh.guestmmu;

import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;

/**
 * A 32-bit guest as the guest kernel model sets it up: 16 valid segment registers with Ks=0, Kp=1
 * (as Linux sets them for user space), the vCPUs in problem state with relocation on.
 *
 * <p>SDR1 is per vCPU, as in PR KVM ({@code to_book3s(vcpu)->sdr1}): every vCPU starts on the HTAB
 * given at creation; {@link #setSdr1} points one vCPU at another table in the same guest memory.
 * The per-vCPU state and the HPTE word operations are {@link HashGuest}'s.
 */
public final class Guest32 extends HashGuest<Cpu32State, Hash32Mmu> {

  public Guest32(GuestHtab htab, MmuOptions options, int vcpus) {
    super(
        bootCpus(vcpus),
        new Hash32Mmu(htab, options),
        h -> new Hash32Mmu(h, options),
        new Word1Bits(Hash32Mmu.PTE_R, Hash32Mmu.PTE_C, Hash32Mmu.PTE_PP));
  }

  private static Cpu32State[] bootCpus(int vcpus) {
    Cpu32State[] cpus = new Cpu32State[vcpus];
    for (int v = 0; v < vcpus; v++) {
      Cpu32State c = new Cpu32State().setMsr(true, true, true);
      for (int sr = 0; sr < 16; sr++) {
        c.mtsrin(sr, Cpu32State.SR_KP | (0x100 + sr * 0x11));
      }
      cpus[v] = c;
    }
    return cpus;
  }

  @Override
  public int hpteBytes() {
    return 8;
  }

  @Override
  public long enter(int vcpu, long ea, long gfn, int pp) {
    return enterWord1(vcpu, ea, ((gfn << 12) & Hash32Mmu.PTE_RPN) | 0x10 | pp);
  }

  @Override
  public long primaryPteg(int vcpu, long ea) {
    return mmus.of(vcpu).ptegAddr(cpus[vcpu].findSr(ea), ea, true);
  }

  @Override
  public HostFlush tlbieFor(int vcpu, long ea) {
    return mmus.of(vcpu).tlbie(ea);
  }

  @Override
  public boolean loadSegment(int vcpu, long ea) {
    return false;
  }

  @Override
  public long maxEa() {
    return 0xFFFFFFFFL;
  }

  @Override
  public long maxGfn() {
    return Hash32Mmu.PTE_RPN >>> 12;
  }
}
