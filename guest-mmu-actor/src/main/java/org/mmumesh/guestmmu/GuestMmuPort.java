package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;

/**
 * One VM's guest MMU as the engine sees it: the 32-bit and 64-bit models behind one interface, plus
 * the HTAB operations the guest kernel model performs. Per-vCPU register state lives here too.
 */
public interface GuestMmuPort {

  /** The kernel's xlate for vCPU {@code vcpu}. */
  XlateResult xlate(int vcpu, long ea, Access access, boolean guestVisible);

  /** {@code esid_to_vsid} for vCPU {@code vcpu}. */
  long esidToVsid(int vcpu, long esid);

  /** The vCPU's register state. */
  CpuState cpu(int vcpu);

  /** The vCPU's translation mode as 3 bits (PR, IR, DR), part of TLB tags. */
  default int mode(int vcpu) {
    CpuState c = cpu(vcpu);
    return (c.msrPr() ? 4 : 0) | (c.msrIr() ? 2 : 0) | (c.msrDr() ? 1 : 0);
  }

  /** The VM's HTAB. */
  GuestHtab htab();

  /** Bytes per HPTE (8 or 16). */
  int hpteBytes();

  /**
   * H_ENTER: an HPTE for {@code ea} -> {@code gfn} with {@code pp}; -1 when both PTEGs are full.
   */
  long enter(int vcpu, long ea, long gfn, int pp);

  /** The guest-real address of {@code ea}'s primary PTEG. */
  long primaryPteg(int vcpu, long ea);

  /** The HPTE translating {@code ea}, or -1. */
  long findPte(int vcpu, long ea);

  /** Invalidates the HPTE at {@code pteAddr} (clears its first word). */
  void invalidate(long pteAddr);

  /** The host flush a guest tlbie of {@code ea}'s page asks for. */
  HostFlush tlbieFor(int vcpu, long ea);

  /** True when the HPTE at {@code pteAddr} has its C bit set. */
  boolean cBit(long pteAddr);

  /** Rewrites the PP bits of the HPTE at {@code pteAddr}. */
  void setPp(long pteAddr, int pp);

  /**
   * Handles a segment miss for {@code ea} (64-bit: loads an SLB entry). Returns false when there is
   * nothing to load (32-bit guests have all 16 SRs set).
   */
  boolean loadSegment(int vcpu, long ea);
}
