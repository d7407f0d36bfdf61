package org.mmumesh.vcpu.actor;

import java.util.ArrayDeque;
import java.util.List;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.Counts;
import org.mmumesh.vcpu.actor.VcpuProtocol.BatchDone;
import org.mmumesh.vcpu.actor.VcpuProtocol.RunBatch;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;

/**
 * A {@link Vcpu}'s accepted batches ("Bounded work" in docs/design.md's vCPU section): the running
 * one (its cursor is in {@link Batch}), the queued ones, and what makes {@link RunBatch} idempotent
 * (batch ids must increase; a repeated id of an outstanding batch joins it, the last completed one
 * is answered from memory). Plain state the actor owns; every method runs on the actor's thread.
 */
final class BatchQueue {

  private final ArrayDeque<Batch> queue = new ArrayDeque<>();
  private final StoreFlushes flushes;
  private Batch cur;
  private long lastAcceptedBatchId = VcpuWork.NONE;
  private BatchDone lastDone;

  BatchQueue(StoreFlushes flushes) {
    this.flushes = flushes;
  }

  /** Takes back a parked vCPU's batches. */
  void restore(long lastAccepted, BatchDone lastDone, Batch cur, List<Batch> queued) {
    this.lastAcceptedBatchId = lastAccepted;
    this.lastDone = lastDone;
    this.cur = cur;
    queue.addAll(queued);
  }

  /** Bad input of {@code m} (naming the field and the allowed range), or null. */
  static String invalid(RunBatch m) {
    List<AccessOp> a = m.accesses();
    if (a == null || a.isEmpty() || a.size() > VcpuProtocol.MAX_BATCH_ACCESSES) {
      return "accesses: "
          + (a == null ? "null" : a.size() + " accesses")
          + " is out of range; allowed 1 to "
          + VcpuProtocol.MAX_BATCH_ACCESSES;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) == null || a.get(i).kind() == null) {
        return "accesses[" + i + "]: " + a.get(i) + " has no kind; allowed LOAD, STORE or IFETCH";
      }
    }
    return null;
  }

  /** A retry of an outstanding or the last completed batch joins it or is answered again. */
  boolean joined(RunBatch m) {
    long id = m.batchId();
    if (cur != null && !cur.trace && cur.batchId == id) {
      cur.replyTos.add(m.replyTo());
      return true;
    }
    for (Batch b : queue) {
      if (b.batchId == id) {
        b.replyTos.add(m.replyTo());
        return true;
      }
    }
    if (flushes.joinWaiting(id, m.replyTo())) {
      return true;
    }
    if (lastDone != null && lastDone.batchId() == id) {
      m.replyTo().tell(lastDone);
      return true;
    }
    return false;
  }

  /**
   * Queues {@code m} (valid, not {@linkplain #joined joined}) if its id is new and fewer than
   * {@code maxOutstanding} batches are outstanding; else the reason it is rejected.
   */
  String accept(RunBatch m, int maxOutstanding) {
    if (m.batchId() <= lastAcceptedBatchId) {
      return "batchId: "
          + m.batchId()
          + " is not above the last accepted batch id "
          + lastAcceptedBatchId
          + "; allowed: a new, increasing id (a retry of an outstanding or the last completed"
          + " batch is answered)";
    }
    int outstanding = outstanding();
    if (outstanding >= maxOutstanding) {
      return "batches: "
          + outstanding
          + " outstanding; allowed at most "
          + maxOutstanding
          + " (send more after a BatchDone)";
    }
    lastAcceptedBatchId = m.batchId();
    queue.add(new Batch(m.batchId(), List.copyOf(m.accesses()), m.replyTo()));
    return null;
  }

  /** Batches accepted and not done (the running one included; a traced access is none). */
  int outstanding() {
    return queue.size() + (cur != null && !cur.trace ? 1 : 0);
  }

  /** The running batch, the next queued one if none runs, or null when there is none. */
  Batch current() {
    if (cur == null) {
      cur = queue.poll();
    }
    return cur;
  }

  /** Runs {@code b} now (a traced access's batch, while no other batch runs). */
  void run(Batch b) {
    cur = b;
  }

  /** The running batch is over: it is returned and none runs. */
  Batch finish() {
    Batch b = cur;
    cur = null;
    return b;
  }

  /**
   * Batch {@code b} is over and its stores applied: answered {@link BatchDone} with the vCPU's
   * {@code counters} now, which is remembered for a retry of its id.
   */
  void done(Batch b, Counts counters) {
    BatchDone done =
        new BatchDone(b.batchId, b.completed, b.failed, List.copyOf(b.failures), counters);
    lastDone = done;
    b.replyTos.forEach(r -> r.tell(done));
  }

  long lastAcceptedBatchId() {
    return lastAcceptedBatchId;
  }

  BatchDone lastDone() {
    return lastDone;
  }

  /** The running batch as it is (null: none), for parking. */
  Batch running() {
    return cur;
  }

  /** The queued batches, for parking. */
  List<Batch> queued() {
    return List.copyOf(queue);
  }
}
