package org.mmumesh.hostmmu;

import org.mmumesh.common.Access;

/**
 * The outcome of the hardware's host HTAB search for one access (the vCPU fast path). An enum, so
 * the hit path allocates nothing. On a 64-bit host the guest runs with key Kp=0, so PP=2 is
 * read-write and PP=3 read-only; on a 32-bit host the key is 1, so PP=2 is read-write and PP=1
 * read-only, and there is no N bit (spec 5.2-5.4).
 */
public enum Lookup {
  /** No valid host HPTE: the access takes a NOHPTE fault (DSISR 0x40000000 / SRR1 0x40000000). */
  MISS(false, false, false),
  /** Read-write, executable. */
  HIT_RW(true, true, true),
  /** Read-only, executable. */
  HIT_RO(true, false, true),
  /** Read-write, no-execute (host N set). */
  HIT_RW_NOEXEC(true, true, false),
  /** Read-only, no-execute. */
  HIT_RO_NOEXEC(true, false, false);

  private final boolean hit;
  private final boolean writable;
  private final boolean executable;

  Lookup(boolean hit, boolean writable, boolean executable) {
    this.hit = hit;
    this.writable = writable;
    this.executable = executable;
  }

  /** The constant for a hit with the given protection. */
  public static Lookup of(boolean writable, boolean executable) {
    if (writable) {
      return executable ? HIT_RW : HIT_RW_NOEXEC;
    }
    return executable ? HIT_RO : HIT_RO_NOEXEC;
  }

  /** True when a valid host HPTE was found. */
  public boolean isHit() {
    return hit;
  }

  /** True for a hit whose HPTE allows stores. */
  public boolean isWritable() {
    return writable;
  }

  /** True for a hit whose HPTE allows instruction fetch. */
  public boolean isExecutable() {
    return executable;
  }

  /**
   * True when the access completes without an exit: a hit whose protection allows it. A store to a
   * read-only hit is a host PROTFAULT; a fetch from a no-execute hit is a host N fault.
   */
  public boolean permits(Access access) {
    return switch (access) {
      case LOAD -> hit;
      case STORE -> writable;
      case IFETCH -> executable;
    };
  }
}
