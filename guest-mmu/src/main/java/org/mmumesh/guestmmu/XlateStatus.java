package org.mmumesh.guestmmu;

/** The return codes of the kernel's xlate (spec section 4). */
public enum XlateStatus {
  /** Translation found and the access is permitted. */
  OK(0),
  /** Matching PTE found but {@code !may_read} or a store to a page without write permission. */
  EPERM(-1),
  /** No BAT and no matching PTE in either PTEG (or, with Q2, a hidden primary -EPERM). */
  ENOENT(-2),
  /** 64-bit only: no SLB entry for the effective address (a segment interrupt). */
  EINVAL(-22);

  private final int errno;

  XlateStatus(int errno) {
    this.errno = errno;
  }

  /** The kernel's return value (0, -EPERM, -ENOENT, -EINVAL). */
  public int errno() {
    return errno;
  }
}
