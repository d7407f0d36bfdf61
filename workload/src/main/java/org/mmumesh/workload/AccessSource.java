package org.mmumesh.workload;

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

  /** A source that is finished from the start. */
  static AccessSource empty() {
    return batch -> {
      batch.clear();
      return 0;
    };
  }
}
