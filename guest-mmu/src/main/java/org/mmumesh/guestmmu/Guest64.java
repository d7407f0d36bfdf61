package org.mmumesh.guestmmu;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestVcpuRegisters;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;

/**
 * A 64-bit guest (POWER7-like: 64 SLB entries, multi-page-size) as the guest kernel model sets it
 * up: the SLB starts empty and is filled on segment interrupts, round-robin, with 256 MiB segments
 * (VSID {@code 0x1000 + esid * 0x101}, Ks=0, Kp=1); the vCPUs run in problem state.
 *
 * <p>SDR1 is per vCPU, as in PR KVM ({@code to_book3s(vcpu)->sdr1}): every vCPU starts on the HTAB
 * given at creation; {@link #setSdr1} points one vCPU at another table in the same guest memory.
 * The per-vCPU state and the HPTE word operations are {@link HashGuest}'s.
 */
public final class Guest64 extends HashGuest<Cpu64State, Hash64Mmu> {
  private final int[] nextSlb;

  public Guest64(GuestHtab htab, MmuOptions options, int vcpus) {
    super(
        bootCpus(vcpus),
        new Hash64Mmu(htab, options),
        h -> new Hash64Mmu(h, options),
        new Word1Bits(Hash64Mmu.HPTE_R_R, Hash64Mmu.HPTE_R_C, Hash64Mmu.HPTE_R_PP));
    this.nextSlb = new int[vcpus];
  }

  private static Cpu64State[] bootCpus(int vcpus) {
    Cpu64State[] cpus = new Cpu64State[vcpus];
    for (int v = 0; v < vcpus; v++) {
      cpus[v] = new Cpu64State().setMsr(true, true, true);
    }
    return cpus;
  }

  /** The VSID the guest kernel model gives segment {@code esid}. */
  public static long vsidOf(long esid) {
    return 0x1000L + esid * 0x101L;
  }

  @Override
  public int hpteBytes() {
    return 16;
  }

  @Override
  public long enter(int vcpu, long ea, long gfn, int pp) {
    return enterWord1(vcpu, ea, (gfn << 12) | 0x10 | pp);
  }

  @Override
  public long primaryPteg(int vcpu, long ea) {
    SlbEntry slbe = cpus[vcpu].findSlbe(ea);
    return mmus.of(vcpu).ptegAddr(slbe, ea, false);
  }

  @Override
  public HostFlush tlbieFor(int vcpu, long ea) {
    // The kernel model's VSIDs are fixed per ESID, so the VPN is known even after the segment's
    // SLB entry was replaced.
    long vpn = ((ea & 0x0FFFFFFFL) >>> 12) | (vsidOf(ea >>> 28) << 16);
    return new HostFlush.PteVflush(vpn, Hash64Mmu.VFLUSH_4K);
  }

  @Override
  public boolean loadSegment(int vcpu, long ea) {
    Cpu64State c = cpus[vcpu];
    long esid = ea >>> 28;
    if (c.findSlbe(ea) != null || esid > 0xFFFFFFFFFL) {
      return false;
    }
    int index = nextSlb[vcpu];
    nextSlb[vcpu] = (index + 1) % c.slbNr();
    c.setSegment(index, esid, vsidOf(esid), false, true);
    return true;
  }

  @Override
  void checkpointVcpu(int vcpu, GuestVcpuRegisters.Builder r) {
    r.setNextSlbIndex(nextSlb[vcpu]);
  }

  @Override
  void checkVcpu(String field, GuestVcpuRegisters r) {
    CheckpointMismatchException.checkRange(
        field + ".next_slb_index", r.getNextSlbIndex(), 0, r.getSlbSizeEntries() - 1L);
  }

  @Override
  void restoreVcpu(int vcpu, GuestVcpuRegisters r) {
    nextSlb[vcpu] = r.getNextSlbIndex();
  }

  @Override
  public long maxEa() {
    return -1L;
  }

  @Override
  public long maxGfn() {
    return Hash64Mmu.HPTE_R_RPN >>> 12;
  }
}
