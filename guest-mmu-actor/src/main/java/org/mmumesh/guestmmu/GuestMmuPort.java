package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;
import org.mmumesh.common.Checks;
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

  /** True when the HPTE at {@code pteAddr} has its R (referenced) bit set. */
  boolean rBit(long pteAddr);

  /**
   * Clears R ({@code r}) and/or C ({@code c}) of the HPTE at {@code pteAddr} (dirty tracking); the
   * guest must then tlbie the page. Returns {R, C} before the change.
   */
  boolean[] clearRc(long pteAddr, boolean r, boolean c);

  /** The number of vCPUs (valid indexes are 0 to {@code vcpus() - 1}). */
  int vcpus();

  /** The largest effective address (unsigned): 0xFFFFFFFF for 32-bit guests, all ones for 64. */
  long maxEa();

  /**
   * The largest gfn an HPTE's RPN field can hold: 0xFFFFF for 32-bit (spec 2.4, RPN bits 0-19),
   * 0x3FFFFFFFFFFFF for 64-bit (spec 3.4, {@code HPTE_R_RPN}).
   */
  long maxGfn();

  /**
   * Requires a valid vCPU index.
   *
   * @throws IllegalArgumentException naming {@code vcpu} and the allowed range
   */
  default void checkVcpu(int vcpu) {
    Checks.inRange("vcpu", vcpu, 0, vcpus() - 1L);
  }

  /**
   * Requires an effective address this MMU can translate (32 bits on a 32-bit MMU).
   *
   * @throws IllegalArgumentException naming {@code ea} and the allowed range
   */
  default void checkEa(long ea) {
    Checks.unsignedAtMost("ea", ea, maxEa());
  }

  /**
   * Requires a segment number this MMU has: 0 to 15 for 32-bit, 0 to 2^36-1 for 64-bit.
   *
   * @throws IllegalArgumentException naming {@code esid} and the allowed range
   */
  default void checkEsid(long esid) {
    Checks.unsignedAtMost("esid", esid, maxEa() >>> 28);
  }
}
