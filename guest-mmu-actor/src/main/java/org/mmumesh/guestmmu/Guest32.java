package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;

/**
 * A 32-bit guest as the guest kernel model sets it up: 16 valid segment registers with Ks=0, Kp=1
 * (as Linux sets them for user space), the vCPUs in problem state with relocation on.
 *
 * <p>SDR1 is per vCPU, as in PR KVM ({@code to_book3s(vcpu)->sdr1}): every vCPU starts on the HTAB
 * given at creation; {@link #setSdr1} points one vCPU at another table in the same guest memory.
 */
public final class Guest32 implements GuestMmuPort {
  private final MmuOptions options;
  private final Cpu32State[] cpus;

  /** Each vCPU's MMU over the HTAB its SDR1 names (shared while the SDR1 values agree). */
  private final VcpuTables<Hash32Mmu> mmus;

  public Guest32(GuestHtab htab, MmuOptions options, int vcpus) {
    this.options = options;
    this.mmus =
        new VcpuTables<>(
            vcpus, new Hash32Mmu(htab, options), h -> new Hash32Mmu(h, options), Hash32Mmu::htab);
    this.cpus = new Cpu32State[vcpus];
    for (int v = 0; v < vcpus; v++) {
      Cpu32State c = new Cpu32State().setMsr(true, true, true);
      for (int sr = 0; sr < 16; sr++) {
        c.mtsrin(sr, Cpu32State.SR_KP | (0x100 + sr * 0x11));
      }
      cpus[v] = c;
    }
  }

  @Override
  public XlateResult xlate(int vcpu, long ea, Access access, boolean guestVisible) {
    return mmus.of(vcpu).xlate(cpus[vcpu], ea, access, guestVisible);
  }

  @Override
  public long esidToVsid(int vcpu, long esid) {
    return mmus.of(vcpu).esidToVsid(cpus[vcpu], esid);
  }

  @Override
  public CpuState cpu(int vcpu) {
    return cpus[vcpu];
  }

  @Override
  public GuestHtab htab(int vcpu) {
    return mmus.of(vcpu).htab();
  }

  /**
   * {@code mtspr SDR1} on vCPU {@code vcpu} ({@code kvmppc_core_emulate_mtspr_pr}): from now on its
   * xlate and the guest kernel's HPTE inserts for it use the table {@code sdr1} names, in the same
   * guest memory (the words of the old table stay where they are). Setting the current value again
   * changes nothing. The caller flushes the vCPU's shadow PTEs ({@code kvmppc_mmu_pte_flush(vcpu,
   * 0, 0)}).
   *
   * @throws IllegalArgumentException as {@link #checkSdr1}; nothing changed
   */
  @Override
  public void setSdr1(int vcpu, long sdr1) {
    mmus.point(vcpu, checkSdr1(vcpu, sdr1));
  }

  @Override
  public int hpteBytes() {
    return 8;
  }

  @Override
  public long enter(int vcpu, long ea, long gfn, int pp) {
    return mmus.of(vcpu).enter(cpus[vcpu], ea, ((gfn << 12) & Hash32Mmu.PTE_RPN) | 0x10 | pp);
  }

  @Override
  public long primaryPteg(int vcpu, long ea) {
    return mmus.of(vcpu).ptegAddr(cpus[vcpu].findSr(ea), ea, true);
  }

  @Override
  public long findPte(int vcpu, long ea) {
    return mmus.of(vcpu).findPte(cpus[vcpu], ea);
  }

  @Override
  public void invalidate(long pteAddr) {
    mmus.at(pteAddr).htab().setWord(pteAddr, 0);
  }

  @Override
  public HostFlush tlbieFor(int vcpu, long ea) {
    return mmus.of(vcpu).tlbie(ea);
  }

  @Override
  public boolean cBit(long pteAddr) {
    return (mmus.at(pteAddr).readWord1(pteAddr) & Hash32Mmu.PTE_C) != 0;
  }

  @Override
  public void setPp(long pteAddr, int pp) {
    Hash32Mmu t = mmus.at(pteAddr);
    long w1 = t.readWord1(pteAddr);
    t.htab().setWord(pteAddr + 4, (w1 & ~Hash32Mmu.PTE_PP) | pp);
  }

  @Override
  public boolean loadSegment(int vcpu, long ea) {
    return false;
  }

  @Override
  public boolean rBit(long pteAddr) {
    return (mmus.at(pteAddr).readWord1(pteAddr) & Hash32Mmu.PTE_R) != 0;
  }

  @Override
  public int vcpus() {
    return cpus.length;
  }

  @Override
  public long maxEa() {
    return 0xFFFFFFFFL;
  }

  @Override
  public long maxGfn() {
    return Hash32Mmu.PTE_RPN >>> 12;
  }

  @Override
  public boolean[] clearRc(long pteAddr, boolean r, boolean c) {
    long before =
        mmus.at(pteAddr).clearRc(pteAddr, (r ? Hash32Mmu.PTE_R : 0) | (c ? Hash32Mmu.PTE_C : 0));
    return new boolean[] {(before & Hash32Mmu.PTE_R) != 0, (before & Hash32Mmu.PTE_C) != 0};
  }
}
