package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.vcpu.Vcpu;
import org.mmumesh.vcpu.VcpuCounters;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;

/**
 * Feeds one vCPU its {@link AccessSource} in {@link Vcpu.RunBatch}es, at most {@code
 * maxOutstanding} batches accepted and not done at a time (the vCPU's bound), and completes {@code
 * done} when the source is exhausted and every batch was answered. A {@link Vcpu.Rejected} batch
 * counts all its accesses failed, with the reason.
 */
final class Driver {
  private Driver() {}

  /** One vCPU's outcome: its counters at its last batch, accesses completed and failed. */
  record Outcome(
      int vm,
      int vcpu,
      long completed,
      long failed,
      List<String> failures,
      VcpuCounters counters) {}

  static Behavior<Vcpu.BatchReply> create(
      int vm,
      int vcpu,
      ActorRef<Vcpu.Command> target,
      AccessSource source,
      int batchSize,
      int maxOutstanding,
      CompletableFuture<Outcome> done) {
    return Behaviors.setup(
        ctx -> {
          AccessBatch batch = new AccessBatch(batchSize);
          long[] st = new long[4]; // nextBatchId, outstanding, completed, failed
          boolean[] exhausted = {false};
          List<String> failures = new ArrayList<>();
          VcpuCounters[] counters = {null};
          long[] lastCountersBatch = {-1};
          java.util.Map<Long, Integer> sizes = new java.util.HashMap<>();
          Runnable send =
              () -> {
                while (!exhausted[0] && st[1] < maxOutstanding) {
                  int n = source.fill(batch);
                  if (n == 0) {
                    exhausted[0] = true;
                    break;
                  }
                  List<Vcpu.AccessOp> ops = new ArrayList<>(n);
                  for (int i = 0; i < n; i++) {
                    ops.add(new Vcpu.AccessOp(batch.kind(i), batch.ea(i), batch.value(i)));
                  }
                  st[1]++;
                  sizes.put(st[0] + 1, n);
                  target.tell(new Vcpu.RunBatch(++st[0], ops, ctx.getSelf()));
                }
                if (exhausted[0] && st[1] == 0) {
                  done.complete(
                      new Outcome(vm, vcpu, st[2], st[3], List.copyOf(failures), counters[0]));
                }
              };
          send.run();
          return Behaviors.receive(Vcpu.BatchReply.class)
              .onMessage(
                  Vcpu.BatchDone.class,
                  m -> {
                    st[1]--;
                    sizes.remove(m.batchId());
                    st[2] += m.completed();
                    st[3] += m.failed();
                    failures.addAll(m.failures());
                    if (m.batchId() > lastCountersBatch[0]) {
                      lastCountersBatch[0] = m.batchId();
                      counters[0] = m.counters();
                    }
                    send.run();
                    return Behaviors.same();
                  })
              .onMessage(
                  Vcpu.Rejected.class,
                  m -> {
                    st[1]--;
                    failures.add("vm " + vm + " vcpu " + vcpu + " batch rejected: " + m.reason());
                    Integer n = sizes.remove(m.id());
                    st[3] += n == null ? 0 : n;
                    send.run();
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
