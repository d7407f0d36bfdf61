package org.mmumesh.hostmmu;

/**
 * The {@code mmu_notifier_retry} guard of the host MMU (spec 5.7, architecture section 4, fault
 * step 4). The fault handler reads the VM's MMU-notifier sequence number with its gfn-to-pfn and
 * passes it to {@code MapPage} as {@code guardSeq}; the page-frame side bumps the number before it
 * reports an invalidation. If an invalidation with a higher number has reached the host MMU since,
 * the pfn may be stale and the mapping is refused (the vCPU re-faults).
 *
 * <p>Pure state, no actor imports. The guard only ever learns sequence numbers from invalidations
 * it has seen, so it must survive a reset of the shadow state: a fresh guard accepts every guarded
 * map until its first invalidation arrives.
 */
public final class MmuNotifierGuard {
  /** No invalidation seen yet. */
  public static final long NONE = -1L;

  private long latestSeq = NONE;

  /** A guard that has seen no invalidation. */
  public MmuNotifierGuard() {}

  /**
   * Records an applied invalidation. Sequence numbers only grow; a late or repeated one (the same
   * event reported per memslot, or a retry) leaves the latest in place.
   */
  public void noteInvalidation(long notifierSeq) {
    latestSeq = Math.max(latestSeq, notifierSeq);
  }

  /**
   * True when a map guarded by {@code guardSeq} may install: no guard ({@code guardSeq < 0}), or no
   * invalidation newer than {@code guardSeq} has been applied.
   */
  public boolean mayInstall(long guardSeq) {
    return guardSeq < 0 || latestSeq <= guardSeq;
  }

  /** The highest sequence number seen, or {@link #NONE}. */
  public long latestSeq() {
    return latestSeq;
  }

  /** The guard's state (checkpoint; pure). */
  public org.mmumesh.checkpoint.v1.MmuNotifierGuardState checkpoint() {
    return org.mmumesh.checkpoint.v1.MmuNotifierGuardState.newBuilder()
        .setLatestSeq(latestSeq)
        .build();
  }

  /**
   * A guard in the state {@code s}.
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException if latest_seq is below -1
   */
  public static MmuNotifierGuard restore(org.mmumesh.checkpoint.v1.MmuNotifierGuardState s) {
    MmuNotifierGuard g = new MmuNotifierGuard();
    g.latestSeq =
        org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
            "latest_seq", s.getLatestSeq(), NONE, Long.MAX_VALUE);
    return g;
  }
}
