package org.mmumesh.mesh;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The accesses area of {@link MeshSimulation} (the gateway's {@code AccessService}): workload
 * batches on a vCPU ({@code Vcpu.RunBatch}) and single traced accesses ({@code Vcpu.TraceAccess},
 * which needs the vCPU idle). Accesses and traces are the port's and the vCPU's one type each
 * ({@link AccessOp}, {@link AccessTrace}): a batch goes to the vCPU as it came (an immutable list,
 * copied only if the caller's was not), with no record made per access.
 *
 * <p>The {@code Vcpu} requires increasing batch ids: this area numbers each vCPU's batches itself
 * (a workload stream's own ids are echoed by the gateway) and resends an unanswered batch with the
 * same id (the vCPU joins the running one or answers it again).
 */
final class AccessArea extends SimulationArea {
  /**
   * Asks a batch is sent before it counts as failed (each waits {@link MeshEngine#RESEND_AFTER}).
   */
  static final int BATCH_ATTEMPTS = 12;

  private final ConcurrentHashMap<Long, AtomicLong> batchIds = new ConcurrentHashMap<>();

  AccessArea(Shared s) {
    super(s);
  }

  /** See {@link Simulation#runBatch}. */
  CompletionStage<Simulation.BatchResult> runBatch(int vmId, int vcpu, List<AccessOp> ops) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vcpu(vmId, vcpu);
          if (!e.is64()) {
            for (int i = 0; i < ops.size(); i++) {
              if (Long.compareUnsigned(ops.get(i).ea(), EA32) > 0) {
                ea(e, "accesses[" + i + "].effective_addr", ops.get(i).ea()); // throws
              }
            }
          }
          long batchId =
              batchIds
                  .computeIfAbsent(((long) vmId << 32) | vcpu, k -> new AtomicLong())
                  .incrementAndGet();
          return sendBatch(startVcpu(vmId, vcpu), batchId, List.copyOf(ops), 1)
              .thenApply(
                  reply -> {
                    if (reply instanceof Vcpu.BatchDone d) {
                      return new Simulation.BatchResult(
                          d.completed(),
                          d.failed(),
                          d.failures(),
                          new java.util.TreeMap<>(d.counters().toWireMap()));
                    }
                    throw SimulationException.wrongState(
                        "vm "
                            + vmId
                            + " vcpu "
                            + vcpu
                            + " refused the batch: "
                            + ((Vcpu.Rejected) reply).reason());
                  });
        });
  }

  /** Sends a batch, again with the same id while unanswered (the vCPU joins or re-answers it). */
  private CompletionStage<Vcpu.BatchReply> sendBatch(
      ActorRef<Vcpu.Command> to, long batchId, List<AccessOp> ops, int attempt) {
    return AskPattern.<Vcpu.Command, Vcpu.BatchReply>ask(
            to,
            r -> new Vcpu.RunBatch(batchId, ops, r),
            MeshEngine.RESEND_AFTER,
            system.scheduler())
        .exceptionallyCompose(
            err -> {
              if (attempt >= BATCH_ATTEMPTS) {
                return failed(
                    new SimulationException(
                        SimulationException.Kind.TIMEOUT,
                        "batch "
                            + batchId
                            + " unanswered after "
                            + attempt
                            + " attempts of "
                            + MeshEngine.RESEND_AFTER));
              }
              return sendBatch(to, batchId, ops, attempt + 1);
            });
  }

  /** See {@link Simulation#traceAccess}. */
  CompletionStage<AccessTrace> traceAccess(int vmId, int vcpu, AccessOp op) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", op.ea());
          return whileStarting(
                  () ->
                      vms.<Vcpu.Command, Vcpu.TraceReply>ask(
                          startVcpu(vmId, vcpu),
                          r -> new Vcpu.TraceAccess(ids.incrementAndGet(), op, r)),
                  1)
              .thenApply(
                  reply -> {
                    if (reply instanceof Vcpu.AccessTraced t) {
                      return t.trace();
                    }
                    throw vcpuRejected((Vcpu.Rejected) reply, null);
                  });
        });
  }
}
