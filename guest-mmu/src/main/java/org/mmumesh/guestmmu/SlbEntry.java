package org.mmumesh.guestmmu;

import org.mmumesh.common.PageSize;

/**
 * One guest SLB entry as KVM's {@code slbmte} decodes it (spec 3.1).
 *
 * @param esid the ESID ({@code RB >>> 28}, or {@code RB >>> 40} for a 1 TiB segment)
 * @param vsid the VSID ({@code (RS & ~B) >>> 12}, or {@code >>> 24} for 1 TiB)
 * @param valid the V bit of RB
 * @param ks supervisor key
 * @param kp problem key
 * @param nx the segment N bit (stored, not used by PR xlate)
 * @param large the L bit
 * @param tb a 1 TiB segment
 * @param cls the class bit
 * @param basePageSize the base page size (4K; with L: 16M, or 64K for LP=01 on multi-page-size
 *     CPUs)
 * @param orige the original RB ({@code rb & (ESID_MASK | V)})
 * @param origv the original RS
 */
public record SlbEntry(
    long esid,
    long vsid,
    boolean valid,
    boolean ks,
    boolean kp,
    boolean nx,
    boolean large,
    boolean tb,
    boolean cls,
    PageSize basePageSize,
    long orige,
    long origv) {

  /** RS bits (spec 3.1). */
  public static final long SLB_VSID_B = 0xC000000000000000L;

  public static final long SLB_VSID_B_1T = 0x4000000000000000L;
  public static final long SLB_VSID_KS = 0x800L;
  public static final long SLB_VSID_KP = 0x400L;
  public static final long SLB_VSID_N = 0x200L;
  public static final long SLB_VSID_L = 0x100L;
  public static final long SLB_VSID_C = 0x080L;
  public static final long SLB_VSID_LP = 0x030L;

  /** RB bits (spec 3.1). */
  public static final long SLB_ESID_V = 0x0000000008000000L;

  public static final long ESID_MASK = 0xFFFFFFFFF0000000L;

  /** 28 for a 256 MiB segment, 40 for 1 TiB. */
  public int sidShift() {
    return tb ? 40 : 28;
  }

  /** The in-segment offset mask. */
  public long offsetMask() {
    return (1L << sidShift()) - 1;
  }
}
