package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.mmumesh.common.Counts;
import org.mmumesh.engine.SimClock;
import org.mmumesh.engine.SimCosts;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The hosts area of {@link MeshSimulation} (the gateway's {@code HostService}): creating and
 * deleting hosts (admitted through {@link Creations}, registered on every node through {@link
 * MeshVms}), listing them, and a host's statistics.
 */
final class HostsArea extends SimulationArea {
  private final Creations creations;

  HostsArea(Shared s, Creations creations) {
    super(s);
    this.creations = creations;
  }

  /** See {@link Simulation#createHost}. */
  CompletionStage<Void> createHost(int hostId, boolean host32, long maxFrames) {
    return guarded(
        () -> {
          creations.admitHost(hostId);
          return creations.admitted(
              sending ->
                  vms.putHost(new MeshDirectory.HostEntry(hostId, host32, maxFrames), sending),
              () -> vms.removeHost(hostId),
              () -> creations.admission().hostFailed(hostId),
              "host " + hostId);
        });
  }

  /** See {@link Simulation#deleteHost}. */
  CompletionStage<Void> deleteHost(int hostId) {
    return guarded(
        () -> {
          hostEvenLost(hostId);
          List<Integer> on = creations.vmsOn(hostId);
          if (!on.isEmpty()) {
            throw SimulationException.wrongState(
                "host " + hostId + " still has vms " + on + "; delete them first");
          }
          return vms.removeHost(hostId).thenRun(() -> creations.admission().hostDeleted(hostId));
        });
  }

  /** See {@link Simulation#listHosts}. */
  CompletionStage<List<Simulation.HostInfo>> listHosts() {
    List<Simulation.HostInfo> out = new ArrayList<>();
    List<MeshDirectory.VmEntry> all = dir.vms();
    for (MeshDirectory.HostEntry h : dir.hosts()) {
      List<Integer> on = new ArrayList<>();
      for (MeshDirectory.VmEntry v : all) {
        if (v.hostId() == h.hostId()) {
          on.add(v.vmId());
        }
      }
      out.add(new Simulation.HostInfo(h.hostId(), h.host32(), h.maxFrames(), List.copyOf(on)));
    }
    return CompletableFuture.completedFuture(List.copyOf(out));
  }

  /** See {@link Simulation#hostStats}. */
  CompletionStage<Map<String, Long>> hostStats(int hostId) {
    return guarded(
        () -> {
          host(hostId);
          List<CompletableFuture<Counts>> reports = new ArrayList<>();
          for (MeshDirectory.VmEntry e : dir.vms()) {
            if (e.hostId() != hostId || dir.vmLost(e.vmId()).isPresent()) {
              continue; // a lost VM's counters are gone with its node
            }
            for (int v = 0; v < e.vcpus(); v++) {
              reports.add(vcpuCounters(e.vmId(), v));
            }
          }
          CompletableFuture<PageFrame.StatsReply> frames =
              vms.<PageFrame.Command, PageFrame.StatsReply>ask(
                      glue.frames(hostId), PageFrame.GetStats::new)
                  .toCompletableFuture();
          return CompletableFuture.allOf(reports.toArray(new CompletableFuture<?>[0]))
              .thenCombine(
                  frames,
                  (x, s) -> {
                    Map<String, Long> m = lower(s.counters());
                    long leases = 0;
                    for (int n : s.leasesHeld().values()) {
                      leases += n;
                    }
                    m.put("leases_held", leases);
                    Counts sum = Counts.zero();
                    for (CompletableFuture<Counts> r : reports) {
                      sum = sum.plus(r.join());
                    }
                    // The sequential engine's clock (SimClock) over the host's VMs and its COW
                    // copies: a client stepping KSM by simulated time reads it after each round.
                    m.put(
                        "simulated_nanos",
                        SimClock.nanos(
                            SimCosts.defaults(), sum, s.counters().getOrDefault("COW_BREAKS", 0L)));
                    return m;
                  });
        });
  }
}
