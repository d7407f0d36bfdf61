package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.Counts;
import org.mmumesh.vcpu.actor.Vcpu;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;

/**
 * Feeds one vCPU its {@link AccessSource} in {@link Vcpu.RunBatch}es with increasing batch ids, at
 * most {@code maxOutstanding} batches sent and not answered at a time (the vCPU's bound), and
 * completes {@code done} when the source is exhausted and every batch was answered.
 *
 * <p><b>Each access counted once (invariant 6).</b> A batch is answered once: the first {@link
 * Vcpu.BatchDone} or {@link Vcpu.Rejected} for an outstanding batch id counts its accesses
 * (completed and failed as the vCPU reports them; all failed, with the reason, when rejected); any
 * later answer for that id (a duplicate, or the answer to a resend) is ignored. Pekko delivery is
 * at-most-once, so every {@code resendAfter} the unanswered batches are sent again with the same
 * id: the vCPU joins a retry to the running batch or answers its last completed batch again
 * (idempotent). If a retry reaches the vCPU after a later batch also completed, the vCPU rejects it
 * as a stale id and the batch is reported failed (its accesses may have run; the vCPU's counters
 * tell): no access is lost or counted twice.
 */
final class Driver extends AbstractBehavior<Object> {

  /** One vCPU's outcome: its counters at its last batch, accesses completed and failed. */
  record Outcome(
      int vm, int vcpu, long completed, long failed, List<String> failures, Counts counters) {}

  /** The resend timer (local). */
  private enum Resend implements NoSerializationVerificationNeeded {
    TICK
  }

  private final int vm;
  private final int vcpu;
  private final ActorRef<Vcpu.Command> target;
  private final AccessSource source;
  private final AccessBatch batch;
  private final int maxOutstanding;
  private final TimerScheduler<Object> timers;
  private final CompletableFuture<Outcome> done;
  private final Map<Long, Vcpu.RunBatch> outstanding = new TreeMap<>();
  private final List<String> failures = new ArrayList<>();
  private long lastBatchId;
  private long completed;
  private long failed;
  private boolean exhausted;
  private Counts counters;
  private long countersBatchId = -1;

  static Behavior<Vcpu.BatchReply> create(
      int vm,
      int vcpu,
      ActorRef<Vcpu.Command> target,
      AccessSource source,
      int batchSize,
      int maxOutstanding,
      Duration resendAfter,
      CompletableFuture<Outcome> done) {
    return Behaviors.<Object>setup(
            ctx ->
                Behaviors.withTimers(
                    timers -> {
                      timers.startTimerWithFixedDelay(Resend.TICK, resendAfter);
                      return new Driver(
                          ctx, vm, vcpu, target, source, batchSize, maxOutstanding, timers, done);
                    }))
        .narrow();
  }

  private Driver(
      ActorContext<Object> ctx,
      int vm,
      int vcpu,
      ActorRef<Vcpu.Command> target,
      AccessSource source,
      int batchSize,
      int maxOutstanding,
      TimerScheduler<Object> timers,
      CompletableFuture<Outcome> done) {
    super(ctx);
    this.vm = vm;
    this.vcpu = vcpu;
    this.target = target;
    this.source = source;
    this.batch = new AccessBatch(batchSize);
    this.maxOutstanding = maxOutstanding;
    this.timers = timers;
    this.done = done;
    send();
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Vcpu.BatchDone.class, this::onBatchDone)
        .onMessage(Vcpu.Rejected.class, this::onRejected)
        .onMessageEquals(Resend.TICK, this::onResend)
        .build();
  }

  /** The first answer for an outstanding batch counts; any other is a duplicate. */
  private Behavior<Object> onBatchDone(Vcpu.BatchDone m) {
    if (outstanding.remove(m.batchId()) != null) {
      completed += m.completed();
      failed += m.failed();
      failures.addAll(m.failures());
      if (m.batchId() > countersBatchId) {
        countersBatchId = m.batchId();
        counters = m.counters();
      }
      send();
    }
    return this;
  }

  private Behavior<Object> onRejected(Vcpu.Rejected m) {
    Vcpu.RunBatch rb = outstanding.remove(m.id());
    if (rb != null) {
      failures.add("vm " + vm + " vcpu " + vcpu + " batch " + m.id() + " rejected: " + m.reason());
      failed += rb.accesses().size();
      send();
    }
    return this;
  }

  /** At-most-once delivery: the unanswered batches again, same ids (the vCPU is idempotent). */
  private Behavior<Object> onResend() {
    outstanding.values().forEach(target::tell);
    return this;
  }

  private void send() {
    ActorRef<Vcpu.BatchReply> self = getContext().getSelf().narrow();
    while (!exhausted && outstanding.size() < maxOutstanding) {
      int n = source.fill(batch);
      if (n == 0) {
        exhausted = true;
        break;
      }
      List<AccessOp> ops = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ops.add(new AccessOp(batch.kind(i), batch.ea(i), batch.value(i)));
      }
      Vcpu.RunBatch rb = new Vcpu.RunBatch(++lastBatchId, List.copyOf(ops), self);
      outstanding.put(rb.batchId(), rb);
      target.tell(rb);
    }
    if (exhausted && outstanding.isEmpty() && !done.isDone()) {
      timers.cancelAll();
      done.complete(new Outcome(vm, vcpu, completed, failed, List.copyOf(failures), counters));
    }
  }
}
