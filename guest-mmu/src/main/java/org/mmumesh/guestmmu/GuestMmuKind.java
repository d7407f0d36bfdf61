package org.mmumesh.guestmmu;

/** Which guest MMU a VM has: the 32-bit hashed MMU (spec 2) or the 64-bit one with an SLB (3). */
public enum GuestMmuKind {
  /** Book3S 32-bit (750 / 74xx class): segment registers, BATs, 8-byte HPTEs. */
  BOOK3S_32,
  /** Book3S 64-bit (POWER7-like): SLB, 16-byte HPTEs, multiple page sizes. */
  BOOK3S_64
}
