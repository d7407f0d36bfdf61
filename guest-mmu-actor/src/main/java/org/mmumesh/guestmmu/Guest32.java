package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;

/**
 * A 32-bit guest as the guest kernel model sets it up: 16 valid segment registers with Ks=0, Kp=1
 * (as Linux sets them for user space), the vCPUs in problem state with relocation on.
 */
public final class Guest32 implements GuestMmuPort {
  private final Hash32Mmu mmu;
  private final Cpu32State[] cpus;

  public Guest32(GuestHtab htab, MmuOptions options, int vcpus) {
    this.mmu = new Hash32Mmu(htab, options);
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
    return 8;
  }

  @Override
  public long enter(int vcpu, long ea, long gfn, int pp) {
    return mmu.enter(cpus[vcpu], ea, ((gfn << 12) & Hash32Mmu.PTE_RPN) | 0x10 | pp);
  }

  @Override
  public long primaryPteg(int vcpu, long ea) {
    return mmu.ptegAddr(cpus[vcpu].findSr(ea), ea, true);
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
    return mmu.tlbie(ea);
  }

  @Override
  public boolean cBit(long pteAddr) {
    return (mmu.readWord1(pteAddr) & Hash32Mmu.PTE_C) != 0;
  }

  @Override
  public void setPp(long pteAddr, int pp) {
    long w1 = mmu.readWord1(pteAddr);
    mmu.htab().setWord(pteAddr + 4, (w1 & ~Hash32Mmu.PTE_PP) | pp);
  }

  @Override
  public boolean loadSegment(int vcpu, long ea) {
    return false;
  }

  @Override
  public boolean rBit(long pteAddr) {
    return (mmu.readWord1(pteAddr) & Hash32Mmu.PTE_R) != 0;
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
    long before = mmu.clearRc(pteAddr, (r ? Hash32Mmu.PTE_R : 0) | (c ? Hash32Mmu.PTE_C : 0));
    return new boolean[] {(before & Hash32Mmu.PTE_R) != 0, (before & Hash32Mmu.PTE_C) != 0};
  }
}
