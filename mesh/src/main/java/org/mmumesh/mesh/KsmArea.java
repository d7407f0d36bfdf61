package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The KSM area of {@link MeshSimulation} (the gateway's {@code KsmService}): a host's ksmd controls
 * ({@code run}, {@code pages_to_scan}, {@code sleep_millisecs}), full passes and single wake-ups
 * now, and its counters, each through the host's {@code PageFrame} entity, where ksmd lives (its
 * one KSM protocol, {@code KsmProtocol}).
 */
final class KsmArea extends SimulationArea {

  KsmArea(Shared s) {
    super(s);
  }

  /** See {@link Simulation#ksmControl}. */
  CompletionStage<Simulation.KsmControl> ksmControl(
      int hostId, Integer run, Long pagesToScan, Long sleep) {
    return guarded(
        () -> {
          host(hostId);
          ActorRef<PageFrame.Command> k = glue.frames(hostId);
          // pages_to_scan, sleep_millisecs, then run: each one ksmd control, in order
          List<BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command>> steps =
              new ArrayList<>();
          if (pagesToScan != null) {
            steps.add((id, r) -> new PageFrame.KsmSetPagesToScan(id, pagesToScan, r));
          }
          if (sleep != null) {
            steps.add((id, r) -> new PageFrame.KsmSetSleepMillisecs(id, sleep, r));
          }
          if (run != null) {
            steps.add((id, r) -> new PageFrame.KsmSetRun(id, run, r));
          }
          CompletionStage<?> s = CompletableFuture.completedFuture(null);
          for (var step : steps) {
            s = s.thenCompose(x -> vms.call(k, step, PageFrame.KsmControlDone.class));
          }
          // the controls as ksmd now has them (another gateway may have set the others)
          return rejectedAs(s, SimulationException.Kind.BAD_FIELD)
              .thenCompose(x -> counters(hostId))
              .thenApply(
                  c ->
                      new Simulation.KsmControl(
                          c.counters().getOrDefault("run", 0L).intValue(),
                          c.counters().getOrDefault("pages_to_scan", 0L),
                          c.counters().getOrDefault("sleep_millisecs", 0L)));
        });
  }

  /** See {@link Simulation#ksmPasses}. */
  CompletionStage<Map<String, Long>> ksmPasses(int hostId, int passes) {
    return ksmStep(
        hostId,
        (Long id, ActorRef<PageFrame.KsmReply> r) -> new PageFrame.KsmFullScans(id, passes, r),
        PageFrame.KsmFullScansDone.class);
  }

  /** See {@link Simulation#ksmBatch}. */
  CompletionStage<Map<String, Long>> ksmBatch(int hostId, long pages) {
    return ksmStep(
        hostId,
        (Long id, ActorRef<PageFrame.KsmReply> r) -> new PageFrame.KsmScan(id, pages, r),
        PageFrame.KsmScanned.class);
  }

  /** A KSM step of the host's ksmd (passes or one batch), then its counters. */
  private CompletionStage<Map<String, Long>> ksmStep(
      int hostId,
      BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> step,
      Class<?> done) {
    return guarded(
        () -> {
          host(hostId);
          return vms.call(glue.frames(hostId), step, done).thenCompose(d -> ksmCounters(hostId));
        });
  }

  /** See {@link Simulation#ksmCounters}. */
  CompletionStage<Map<String, Long>> ksmCounters(int hostId) {
    return guarded(
        () -> {
          host(hostId);
          return counters(hostId).thenApply(c -> lower(c.counters()));
        });
  }

  /** The host's {@code KsmCounters} as ksmd has them. */
  private CompletionStage<PageFrame.KsmCounters> counters(int hostId) {
    return vms.call(
        glue.frames(hostId),
        (Long id, ActorRef<PageFrame.KsmReply> r) -> new PageFrame.GetKsmCounters(id, r),
        PageFrame.KsmCounters.class);
  }
}
