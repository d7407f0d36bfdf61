package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;

/**
 * A 64-bit guest (POWER7-like: 64 SLB entries, multi-page-size) as the guest kernel model sets it
 * up: the SLB starts empty and is filled on segment interrupts, round-robin, with 256 MiB segments
 * (VSID {@code 0x1000 + esid * 0x101}, Ks=0, Kp=1); the vCPUs run in problem state.
 *
 * <p>SDR1 is per vCPU, as in PR KVM ({@code to_book3s(vcpu)->sdr1}): every vCPU starts on the HTAB
 * given at creation; {@link #setSdr1} points one vCPU at another table in the same guest memory.
 */
public final class Guest64 implements GuestMmuPort {
  private final MmuOptions options;
  private final Cpu64State[] cpus;
  private final int[] nextSlb;

  /** Each vCPU's MMU over the HTAB its SDR1 names (shared while the SDR1 values agree). */
  private final VcpuTables<Hash64Mmu> mmus;

  public Guest64(GuestHtab htab, MmuOptions options, int vcpus) {
    this.options = options;
    this.mmus =
        new VcpuTables<>(
            vcpus, new Hash64Mmu(htab, options), h -> new Hash64Mmu(h, options), Hash64Mmu::htab);
    this.cpus = new Cpu64State[vcpus];
    this.nextSlb = new int[vcpus];
    for (int v = 0; v < vcpus; v++) {
      cpus[v] = new Cpu64State().setMsr(true, true, true);
    }
  }

  /** The VSID the guest kernel model gives segment {@code esid}. */
  public static long vsidOf(long esid) {
    return 0x1000L + esid * 0x101L;
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
    return 16;
  }

  @Override
  public long enter(int vcpu, long ea, long gfn, int pp) {
    return mmus.of(vcpu).enter(cpus[vcpu], ea, (gfn << 12) | 0x10 | pp);
  }

  @Override
  public long primaryPteg(int vcpu, long ea) {
    SlbEntry slbe = cpus[vcpu].findSlbe(ea);
    return mmus.of(vcpu).ptegAddr(slbe, ea, false);
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
    // The kernel model's VSIDs are fixed per ESID, so the VPN is known even after the segment's
    // SLB entry was replaced.
    long vpn = ((ea & 0x0FFFFFFFL) >>> 12) | (vsidOf(ea >>> 28) << 16);
    return new HostFlush.PteVflush(vpn, Hash64Mmu.VFLUSH_4K);
  }

  @Override
  public boolean cBit(long pteAddr) {
    return (mmus.at(pteAddr).readWord1(pteAddr) & Hash64Mmu.HPTE_R_C) != 0;
  }

  @Override
  public void setPp(long pteAddr, int pp) {
    Hash64Mmu t = mmus.at(pteAddr);
    long r = t.readWord1(pteAddr);
    t.htab().setWord(pteAddr + 8, (r & ~Hash64Mmu.HPTE_R_PP) | pp);
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
  public boolean rBit(long pteAddr) {
    return (mmus.at(pteAddr).readWord1(pteAddr) & Hash64Mmu.HPTE_R_R) != 0;
  }

  @Override
  public int vcpus() {
    return cpus.length;
  }

  @Override
  public long maxEa() {
    return -1L;
  }

  @Override
  public long maxGfn() {
    return Hash64Mmu.HPTE_R_RPN >>> 12;
  }

  @Override
  public boolean[] clearRc(long pteAddr, boolean r, boolean c) {
    long before =
        mmus.at(pteAddr)
            .clearRc(pteAddr, (r ? Hash64Mmu.HPTE_R_R : 0) | (c ? Hash64Mmu.HPTE_R_C : 0));
    return new boolean[] {(before & Hash64Mmu.HPTE_R_R) != 0, (before & Hash64Mmu.HPTE_R_C) != 0};
  }
}
