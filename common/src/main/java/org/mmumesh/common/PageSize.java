package org.mmumesh.common;

/** The page sizes a Book3S translation can report (the kernel's MMU_PAGE_4K/64K/16M). */
public enum PageSize {
  SIZE_4K(12),
  SIZE_64K(16),
  SIZE_16M(24);

  private final int shift;

  PageSize(int shift) {
    this.shift = shift;
  }

  /** log2 of the page size in bytes. */
  public int shift() {
    return shift;
  }

  /** The page size in bytes. */
  public long bytes() {
    return 1L << shift;
  }

  /** A mask of the in-page offset bits. */
  public long offsetMask() {
    return (1L << shift) - 1;
  }
}
