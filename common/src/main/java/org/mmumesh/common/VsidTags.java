package org.mmumesh.common;

/**
 * The tag bits KVM ORs into a guest VSID to keep translation modes apart in the shadow tables (spec
 * 5.2, {@code asm/kvm_book3s.h}). They end up in {@code vpage} (shifted left by 16, with 64-bit
 * wrap-around, exactly as the kernel computes it).
 */
public final class VsidTags {
  private VsidTags() {}

  public static final long VSID_REAL = 0x07FFFFFFFFC00000L;
  public static final long VSID_BAT = 0x07FFFFFFFFB00000L;
  public static final long VSID_64K = 0x0800000000000000L;
  public static final long VSID_1T = 0x1000000000000000L;
  public static final long VSID_REAL_DR = 0x2000000000000000L;
  public static final long VSID_REAL_IR = 0x4000000000000000L;
  public static final long VSID_PR = 0x8000000000000000L;

  /**
   * Returned by {@code esidToVsid} when the segment has no translation (64-bit, relocation on, no
   * SLB entry). No real gvsid can be all ones: VSID_REAL_DR and VSID_REAL_IR are never set
   * together.
   */
  public static final long NO_VSID = -1L;

  /** {@code KVM_PAM}: the guest-real address mask. */
  public static final long KVM_PAM = 0x0FFFFFFFFFFFFFFFL;
}
