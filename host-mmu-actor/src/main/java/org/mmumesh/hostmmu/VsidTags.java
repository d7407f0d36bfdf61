package org.mmumesh.hostmmu;

/**
 * The tag bits KVM ORs into a guest VSID so that translation modes never share a shadow segment
 * (spec 5.2, {@code asm/kvm_book3s.h}). The host MMU needs two of them: {@link #VSID_PR} is part of
 * the SID-map key, and {@link #VSID_64K} selects the 0xFFFFFFFF0 mask in {@code unmap_page} (spec
 * 5.5).
 *
 * <p>The guest MMU module keeps its own copy of these constants; both copies are the spec's values.
 */
public final class VsidTags {
  private VsidTags() {}

  /** Real mode (MSR.IR=DR=0) segments. */
  public static final long VSID_REAL = 0x07FFFFFFFFC00000L;

  /** Segments mapped by a 32-bit BAT. */
  public static final long VSID_BAT = 0x07FFFFFFFFB00000L;

  /** The guest segment uses a 64 KiB base page size. */
  public static final long VSID_64K = 0x0800000000000000L;

  /** The guest segment is a 1 TiB segment. */
  public static final long VSID_1T = 0x1000000000000000L;

  /** Split mode: data relocation off. */
  public static final long VSID_REAL_DR = 0x2000000000000000L;

  /** Split mode: instruction relocation off. */
  public static final long VSID_REAL_IR = 0x4000000000000000L;

  /** The guest runs in problem state (MSR.PR=1): user and kernel segments never share a map. */
  public static final long VSID_PR = 0x8000000000000000L;
}
