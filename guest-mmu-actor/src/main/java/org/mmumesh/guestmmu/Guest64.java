package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;

/**
 * A 64-bit guest (POWER7-like: 64 SLB entries, multi-page-size) as the guest kernel model sets it
 * up: the SLB starts empty and is filled on segment interrupts, round-robin, with 256 MiB segments
 * (VSID {@code 0x1000 + esid * 0x101}, Ks=0, Kp=1); the vCPUs run in problem state.
 */
public final class Guest64 implements GuestMmuPort {
  private final Hash64Mmu mmu;
  private final Cpu64State[] cpus;
  private final int[] nextSlb;

  public Guest64(GuestHtab htab, MmuOptions options, int vcpus) {
    this.mmu = new Hash64Mmu(htab, options);
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
    return mmu.xlate(cpus[vcpu], ea, access, guestVisible);
  }

  @Override
  public long esidToVsid(int vcpu, long esid) {
    return mmu.esidToVsid(cpus[vcpu], esid);
  }

  @Override
  public CpuState cpu(int vcpu) {
    return cpus[vcpu];
  }

  @Override
  public GuestHtab htab() {
    return mmu.htab();
  }

  @Override
  public int hpteBytes() {
    return 16;
  }

  @Override
  public long enter(int vcpu, long ea, long gfn, int pp) {
    return mmu.enter(cpus[vcpu], ea, (gfn << 12) | 0x10 | pp);
  }

  @Override
  public long primaryPteg(int vcpu, long ea) {
    SlbEntry slbe = cpus[vcpu].findSlbe(ea);
    return mmu.ptegAddr(slbe, ea, false);
  }

  @Override
  public long findPte(int vcpu, long ea) {
    return mmu.findPte(cpus[vcpu], ea);
  }

  @Override
  public void invalidate(long pteAddr) {
    mmu.htab().setWord(pteAddr, 0);
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
    return (mmu.readWord1(pteAddr) & Hash64Mmu.HPTE_R_C) != 0;
  }

  @Override
  public void setPp(long pteAddr, int pp) {
    long r = mmu.readWord1(pteAddr);
    mmu.htab().setWord(pteAddr + 8, (r & ~Hash64Mmu.HPTE_R_PP) | pp);
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
    return (mmu.readWord1(pteAddr) & Hash64Mmu.HPTE_R_R) != 0;
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
    long before = mmu.clearRc(pteAddr, (r ? Hash64Mmu.HPTE_R_R : 0) | (c ? Hash64Mmu.HPTE_R_C : 0));
    return new boolean[] {(before & Hash64Mmu.HPTE_R_R) != 0, (before & Hash64Mmu.HPTE_R_C) != 0};
  }
}
