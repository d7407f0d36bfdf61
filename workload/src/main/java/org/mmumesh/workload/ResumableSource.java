package org.mmumesh.workload;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.WorkloadSourceState;

/**
 * An {@link AccessSource} whose position can be checkpointed and restored (issue 13: "the
 * workload's position and random state"): it counts the accesses handed out and, for a source with
 * its own state ({@link AccessSource#checkpointState()}, a seeded generator), writes that state
 * too.
 *
 * <p><b>Restore</b> into a fresh wrapper around a fresh source made by the same factory call: a
 * source with state gets it back at once (O(1)); any other source (a trace file, a replayed trace)
 * is fast-forwarded by reading and dropping the accesses already fetched, which gives the very same
 * position because equal sources produce identical streams whatever the batch sizes ({@link
 * AccessSource}'s contract). Not thread-safe: one vCPU owns it.
 */
public final class ResumableSource implements AccessSource {
  /** The batch size used to fast-forward a source without state. */
  private static final int SKIP_BATCH = 4096;

  private final AccessSource source;
  private long fetched;

  /** Wraps {@code source}, a fresh one (nothing fetched yet). */
  public ResumableSource(AccessSource source) {
    this.source = source;
  }

  @Override
  public int fill(AccessBatch batch) {
    int n = source.fill(batch);
    fetched += n;
    return n;
  }

  @Override
  public long expectedAccesses() {
    return source.expectedAccesses();
  }

  /** Accesses handed out so far. */
  public long fetched() {
    return fetched;
  }

  /** The position: accesses fetched and the source's own state if it has one. Pure. */
  public WorkloadSourceState checkpoint() {
    WorkloadSourceState.Builder b = WorkloadSourceState.newBuilder().setAccessesFetched(fetched);
    var own = source.checkpointState();
    if (own != null) {
      b.setRandom(own);
    }
    return b.build();
  }

  /**
   * Moves this fresh source to {@code state}'s position.
   *
   * @throws IllegalStateException when accesses were already fetched from this wrapper
   * @throws CheckpointMismatchException when the state does not fit the source (a generator state
   *     for a source without one, or more accesses than the source has); the wrapper is then
   *     unusable and must be discarded
   */
  public void restore(WorkloadSourceState state) {
    if (fetched != 0) {
      throw new IllegalStateException(
          "restore: " + fetched + " accesses were already fetched; allowed only on a fresh source");
    }
    if (state.hasRandom()) {
      source.restoreState(state.getRandom());
      fetched = state.getAccessesFetched();
      return;
    }
    AccessBatch scratch = new AccessBatch(SKIP_BATCH);
    long left = state.getAccessesFetched();
    while (left > 0) {
      if (left < scratch.capacity()) {
        scratch = new AccessBatch((int) left); // never read past the position
      }
      int n = source.fill(scratch);
      if (n == 0) {
        throw new CheckpointMismatchException(
            "accesses_fetched: "
                + state.getAccessesFetched()
                + " is more than the source has; allowed 0 to "
                + (state.getAccessesFetched() - left));
      }
      left -= n;
      fetched += n;
    }
  }
}
