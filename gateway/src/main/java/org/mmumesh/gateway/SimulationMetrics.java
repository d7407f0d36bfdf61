package org.mmumesh.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.mmumesh.mesh.Simulation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The simulation's own metrics in the Prometheus registry, read from the simulation when scraped
 * ({@link #refresh}, called by {@link MetricsEndpoint} before each scrape, so nothing polls while
 * nobody scrapes):
 *
 * <ul>
 *   <li>per host ({@code host} tag): KSM's counters as {@code /sys/kernel/mm/ksm} has them ({@code
 *       mmumesh_ksm_pages_shared}, {@code _pages_sharing}, {@code _pages_unshared}, {@code
 *       _pages_volatile}, {@code mmumesh_ksm_full_scans_total}), the frames ({@code
 *       mmumesh_host_frames_in_use}, {@code mmumesh_host_frames_saved_by_ksm}) and copy-on-write
 *       breaks ({@code mmumesh_host_cow_breaks_total}, of KSM pages {@code
 *       mmumesh_host_cow_ksm_total});
 *   <li>per VM ({@code host}, {@code vm} tags): accesses ({@code mmumesh_vm_accesses_total}, whose
 *       {@code rate()} is the access rate; failed ones {@code mmumesh_vm_failed_accesses_total})
 *       and exits by kind ({@code mmumesh_vm_exits_total{kind=nohpte|protfault|noexec|mmio}}).
 * </ul>
 *
 * Meters of hosts and VMs deleted since the last refresh are removed. A refresh that fails or times
 * out keeps the last values and counts {@code mmumesh_metrics_refresh_failures_total}; it never
 * fails the scrape.
 */
public final class SimulationMetrics {
  private static final Logger log = LoggerFactory.getLogger(SimulationMetrics.class);

  private static final List<String> KSM_GAUGES =
      List.of("pages_shared", "pages_sharing", "pages_unshared", "pages_volatile");
  private static final Map<String, String> EXIT_KINDS =
      Map.of(
          "nohpte", "nohpte_exits",
          "protfault", "protfault_exits",
          "noexec", "noexec_exits",
          "mmio", "mmio_exits");

  private final Simulation sim;
  private final MeterRegistry registry;
  private final Counter refreshFailures;
  private final Map<Integer, Map<String, Long>> hostValues = new ConcurrentHashMap<>();
  private final Map<Integer, Map<String, Long>> vmValues = new ConcurrentHashMap<>();
  private final Map<Integer, List<Meter>> hostMeters = new HashMap<>();
  private final Map<Integer, List<Meter>> vmMeters = new HashMap<>();

  /** Metrics of {@code sim} in {@code registry}. */
  public SimulationMetrics(Simulation sim, MeterRegistry registry) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.refreshFailures =
        Counter.builder("mmumesh.metrics.refresh.failures")
            .description("Scrapes whose simulation read failed or timed out (last values kept)")
            .register(registry);
  }

  /** Reads every host's and VM's counters, waiting at most {@code timeout}. */
  public synchronized void refresh(Duration timeout) {
    try {
      List<Simulation.HostInfo> hosts =
          sim.listHosts().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Map<Integer, CompletableFuture<Map<String, Long>>> ksm = new HashMap<>();
      Map<Integer, CompletableFuture<Map<String, Long>>> frames = new HashMap<>();
      Map<Integer, CompletableFuture<Simulation.VmStats>> vms = new HashMap<>();
      Map<Integer, Integer> hostOf = new HashMap<>();
      for (Simulation.HostInfo h : hosts) {
        ksm.put(h.hostId(), sim.ksmCounters(h.hostId()).toCompletableFuture());
        frames.put(h.hostId(), sim.hostStats(h.hostId()).toCompletableFuture());
        for (int vm : h.vms()) {
          vms.put(vm, sim.vmStats(vm).toCompletableFuture());
          hostOf.put(vm, h.hostId());
        }
      }
      List<CompletableFuture<?>> all = new ArrayList<>(ksm.values());
      all.addAll(frames.values());
      all.addAll(vms.values());
      try {
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        // a host or VM deleted meanwhile: take what answered
      }
      for (Simulation.HostInfo h : hosts) {
        Map<String, Long> v = new HashMap<>();
        ksm.get(h.hostId()).getNow(Map.of()).forEach(v::put);
        frames.get(h.hostId()).getNow(Map.of()).forEach(v::put);
        if (!v.isEmpty()) {
          hostValues.put(h.hostId(), v);
          hostMeters.computeIfAbsent(h.hostId(), this::registerHost);
        }
      }
      for (Map.Entry<Integer, CompletableFuture<Simulation.VmStats>> e : vms.entrySet()) {
        Simulation.VmStats s = e.getValue().getNow(null);
        if (s != null) {
          vmValues.put(e.getKey(), Map.copyOf(s.counters()));
          int host = hostOf.get(e.getKey());
          vmMeters.computeIfAbsent(e.getKey(), vm -> registerVm(host, vm));
        }
      }
      Set<Integer> liveHosts = new HashSet<>(ksm.keySet());
      removeGone(hostMeters, hostValues, liveHosts);
      removeGone(vmMeters, vmValues, vms.keySet());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      refreshFailures.increment();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      refreshFailures.increment();
      log.warn("metrics: reading the simulation failed ({}); last values kept", e.toString());
    }
  }

  private void removeGone(
      Map<Integer, List<Meter>> meters, Map<Integer, Map<String, Long>> values, Set<Integer> live) {
    for (Integer id : new ArrayList<>(meters.keySet())) {
      if (!live.contains(id)) {
        meters.remove(id).forEach(registry::remove);
        values.remove(id);
      }
    }
  }

  private long host(int host, String key) {
    return hostValues.getOrDefault(host, Map.of()).getOrDefault(key, 0L);
  }

  private long vm(int vm, String key) {
    return vmValues.getOrDefault(vm, Map.of()).getOrDefault(key, 0L);
  }

  private List<Meter> registerHost(int h) {
    String tag = Integer.toString(h);
    List<Meter> m = new ArrayList<>();
    for (String k : KSM_GAUGES) {
      m.add(
          Gauge.builder("mmumesh.ksm." + k.replace('_', '.'), this, x -> x.host(h, k))
              .description("KSM " + k + " (/sys/kernel/mm/ksm)")
              .tag("host", tag)
              .register(registry));
    }
    m.add(
        FunctionCounter.builder("mmumesh.ksm.full.scans", this, x -> x.host(h, "full_scans"))
            .description("KSM full scans completed")
            .tag("host", tag)
            .register(registry));
    m.add(
        Gauge.builder("mmumesh.host.frames.in.use", this, x -> x.host(h, "frames_in_use"))
            .description("host page frames in use")
            .tag("host", tag)
            .register(registry));
    m.add(
        Gauge.builder(
                "mmumesh.host.frames.saved.by.ksm", this, x -> x.host(h, "frames_saved_by_ksm"))
            .description("guest pages backed by a KSM frame minus those frames")
            .tag("host", tag)
            .register(registry));
    m.add(
        FunctionCounter.builder("mmumesh.host.cow.breaks", this, x -> x.host(h, "cow_breaks"))
            .description("copy-on-write breaks")
            .tag("host", tag)
            .register(registry));
    m.add(
        FunctionCounter.builder("mmumesh.host.cow.ksm", this, x -> x.host(h, "cow_ksm"))
            .description("copy-on-write breaks of KSM pages")
            .tag("host", tag)
            .register(registry));
    return m;
  }

  private List<Meter> registerVm(int host, int v) {
    String hostTag = Integer.toString(host);
    String vmTag = Integer.toString(v);
    List<Meter> m = new ArrayList<>();
    m.add(
        FunctionCounter.builder("mmumesh.vm.accesses", this, x -> x.vm(v, "accesses"))
            .description("guest accesses completed or failed (rate() gives the access rate)")
            .tags("host", hostTag, "vm", vmTag)
            .register(registry));
    m.add(
        FunctionCounter.builder("mmumesh.vm.failed.accesses", this, x -> x.vm(v, "failed_accesses"))
            .description("guest accesses reported failed")
            .tags("host", hostTag, "vm", vmTag)
            .register(registry));
    EXIT_KINDS.forEach(
        (kind, key) ->
            m.add(
                FunctionCounter.builder("mmumesh.vm.exits", this, x -> x.vm(v, key))
                    .description("exits to the host by kind (faults: nohpte, protfault, noexec)")
                    .tags("host", hostTag, "vm", vmTag, "kind", kind)
                    .register(registry)));
    return m;
  }
}
