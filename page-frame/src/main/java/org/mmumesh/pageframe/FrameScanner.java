package org.mmumesh.pageframe;

import java.util.List;
import java.util.Map;

/**
 * A KSM scanner (ksmd's scan work, spec section 7) plugged into the {@link PageFrame} actor of a
 * host and run by it on its own {@link PageFrames} core, inside its own message handling.
 *
 * <h2>Why a plug-in</h2>
 *
 * ksmd reads page tables and frame contents synchronously at every step ({@code follow_page}, the
 * checksum, the memcmp walks of both trees, {@code get_ksm_page}), and in the mesh those are the
 * PageFrame actor's state: copying them into another actor or sharing the object across actors is
 * not acceptable. So ksmd lives in the PageFrame entity of the host: its trees, rmap items and
 * controls in an implementation of this interface (created by the factory given to {@link
 * PageFrame#create(PageFrame.Settings, java.util.function.Function)}), its schedule and the merge
 * handshake in the actor's {@code KsmShell}, which answers the one KSM protocol ({@code
 * KsmProtocol}; design: docs/design.md, "KSM"). {@code page-frame-actor} must not depend on the
 * {@code ksm} module (the dependency points the other way), hence this interface; {@code
 * org.mmumesh.ksm.KsmFrameScanner} implements it.
 *
 * <h2>The merge handshake</h2>
 *
 * The PageFrame actor turns on {@link PageFrames#trackInvalidations} for the VMs that have notifier
 * subscribers. A scanner must not merge (make a KSM page, replace a page) while a write-protect of
 * one of the merge's pages has an invalidation whose acknowledgements are outstanding ({@link
 * PageFrames#invalidationPending}): it write-protects what it must, arranges to re-process the same
 * page, stops early and reports {@code handshakePending}. The actor sends the events, waits for
 * every acknowledgement, calls {@link PageFrames#completeInvalidations()}, and only then answers
 * (or continues, for {@link #runFullScans}).
 *
 * <p>Implementations throw {@link IllegalArgumentException} naming the field and its allowed range
 * for bad input, before changing anything. No Pekko types: plain, single-threaded code.
 */
public interface FrameScanner {
  /**
   * The outcome of one batch.
   *
   * @param visited pages visited (a page re-processed after a handshake is counted once, when it is
   *     finally processed)
   * @param handshakePending the batch stopped early: a merge waits for notifier acknowledgements
   */
  record Batch(long visited, boolean handshakePending) {}

  /**
   * The outcome of {@link #runFullScans}.
   *
   * @param passesCompleted full passes completed by this call
   * @param handshakePending it stopped early for a handshake; call again for the rest
   */
  record Passes(int passesCompleted, boolean handshakePending) {}

  /**
   * One ksmd batch ({@code ksm_do_scan}) of up to {@code maxPages} pages, ending early at the end
   * of a full pass or when a merge waits for a handshake. Visits nothing unless {@code run} is 1.
   *
   * @param maxPages 0 to {@code UINT_MAX} (4294967295)
   */
  Batch scan(long maxPages);

  /**
   * Runs until {@code passes} more full passes complete (lockstep stepping), or a merge waits for a
   * handshake; then call again with the passes still to do.
   *
   * @param passes 0 to {@link Integer#MAX_VALUE}
   * @throws IllegalArgumentException if {@code run} is not 1
   */
  Passes runFullScans(int passes);

  /** Sets {@code run}: 0 stop, 1 merge, 2 stop and unmerge everything (spec 7.1). */
  void setRun(int run);

  /** The current {@code run}. */
  int run();

  /** Sets {@code pages_to_scan}, ksmd's batch size: 0 to {@code UINT_MAX} (spec 7.1). */
  void setPagesToScan(long pages);

  /** The current {@code pages_to_scan}. */
  long pagesToScan();

  /** Sets {@code sleep_millisecs}, ksmd's period between batches: 1 to {@code UINT_MAX}. */
  void setSleepMillisecs(long millis);

  /** The current {@code sleep_millisecs}. */
  long sleepMillisecs();

  /**
   * {@code madvise(MADV_MERGEABLE)} or {@code madvise(MADV_UNMERGEABLE)} of host pages {@code
   * [hvaPage, hvaPage + pages)} of VM {@code vm} (unmerging breaks the range's KSM pages).
   */
  void madvise(int vm, long hvaPage, long pages, boolean mergeable);

  /**
   * The counters, named like the kernel's {@code /sys/kernel/mm/ksm} files: {@code pages_shared},
   * {@code pages_sharing}, {@code pages_unshared}, {@code pages_volatile}, {@code full_scans}, and
   * {@code pages_visited}, {@code rmap_items}, {@code stable_nodes}; implementations may add more.
   */
  Map<String, Long> counters();

  /**
   * ksmd's state for a checkpoint at a barrier (issue 13: trees, rmap items, cursor, checksums,
   * counters, controls). Pure: changes nothing.
   *
   * @throws UnsupportedOperationException naming the class, for a scanner that cannot be
   *     checkpointed (the default: test stand-ins)
   */
  default org.mmumesh.checkpoint.v1.KsmState checkpoint() {
    throw new UnsupportedOperationException(
        "checkpoint: " + getClass().getSimpleName() + " keeps no checkpointable ksmd state");
  }

  /**
   * A scanner of the same kind holding {@code state} over {@code frames} (the frames restored from
   * the same checkpoint, their invalidation tracking already set as the actor sets it), so that the
   * PageFrame actor can restore ksmd without knowing its implementation. This scanner is unchanged.
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the field when the state is
   *     inconsistent or does not fit {@code frames}
   * @throws UnsupportedOperationException naming the class (the default)
   */
  default FrameScanner restoredOver(org.mmumesh.checkpoint.v1.KsmState state, PageFrames frames) {
    throw new UnsupportedOperationException(
        "restore: " + getClass().getSimpleName() + " keeps no checkpointable ksmd state");
  }

  /** Disagreements between the counters and a recount of the trees (empty when consistent). */
  List<String> counterViolations();

  /**
   * {@link #counterViolations()} kept incrementally: only what changed since the previous call is
   * recounted (what that leaves out is the implementation's to say); by default the full check.
   */
  default List<String> counterViolationsIncremental() {
    return counterViolations();
  }
}
