package org.mmumesh.workload;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.RandomSourceState;

/**
 * A deterministic stream of guest accesses for one vCPU, pulled in batches. An engine calls {@link
 * #fill(AccessBatch)} until it returns 0.
 *
 * <p>Contract: {@code fill} clears the batch, appends up to {@code batch.capacity()} accesses in
 * program order and returns how many it appended ({@code batch.size()}). A return of 0 means the
 * stream is finished; every later call also returns 0. Two sources made by the same factory call
 * with the same arguments produce identical streams regardless of the batch capacities used. A
 * source is not thread-safe: one vCPU owns it.
 */
@FunctionalInterface
public interface AccessSource {
  /** Clears {@code batch}, fills it with the next accesses and returns their count (0 = done). */
  int fill(AccessBatch batch);

  /**
   * How many accesses this source produces in all, for progress reporting; -1 when unknown. Not
   * part of the contract of {@link #fill}: a source may end earlier or later.
   */
  default long expectedAccesses() {
    return -1;
  }

  /**
   * The source's own resumable state (a seeded generator's), or null when it has none: then a
   * restore builds a fresh source and skips the accesses already fetched ({@link ResumableSource}).
   * Pure.
   */
  default RandomSourceState checkpointState() {
    return null;
  }

  /**
   * Puts a {@link #checkpointState()} into this fresh source.
   *
   * @throws CheckpointMismatchException when this source has no such state, or the state is out of
   *     range; nothing changed then
   */
  default void restoreState(RandomSourceState state) {
    throw new CheckpointMismatchException(
        "random: this source ("
            + this
            + ") has no generator state; allowed: none (it is fast-forwarded)");
  }

  /** A source that is finished from the start. */
  static AccessSource empty() {
    return batch -> {
      batch.clear();
      return 0;
    };
  }
}
