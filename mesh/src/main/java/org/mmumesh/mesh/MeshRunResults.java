package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.RunFailures;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.VmStats;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.HostMmuStats;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.workload.WorkloadSpec;

/**
 * {@link MeshCluster}'s result collection for a static run: the vCPUs' counters as the driver
 * receives them ({@link Tally}), KSM samples, and at the end the whole state read back from the
 * entities (frames, guest HTABs, shadow caches, kernel events, KSM and page-frame counters) as a
 * {@link MeshResult} with the sequential engine's {@link RunResult} inside.
 */
final class MeshRunResults {
  private final MeshAsks asks;
  private final Guardian.Wiring w;
  private final WorkloadSpec spec;
  private final EngineConfig cfg;

  MeshRunResults(MeshAsks asks, Guardian.Wiring wiring, WorkloadSpec spec, EngineConfig cfg) {
    this.asks = asks;
    this.w = wiring;
    this.spec = spec;
    this.cfg = cfg;
  }

  /** Every vCPU's counters so far, and the accesses counted (each access once). */
  static final class Tally {
    final Counts[][] counters;
    final RunFailures failures = new RunFailures();
    final List<KsmSample> samples = new ArrayList<>();
    long completed;
    long failed;
    long clock;

    Tally(WorkloadSpec spec) {
      counters = new Counts[spec.vms()][spec.vcpusPerVm()];
    }

    void failures(List<String> more) {
      failures.addAll(more);
    }

    Counts sum(int vmOrAll) {
      Counts m = Counts.zero();
      for (int vm = 0; vm < counters.length; vm++) {
        if (vmOrAll >= 0 && vm != vmOrAll) {
          continue;
        }
        for (Counts c : counters[vm]) {
          if (c != null) {
            m = m.plus(c);
          }
        }
      }
      return m;
    }
  }

  /** One KSM sample, taken now, stamped {@code clock}. */
  KsmSample sample(long clock) {
    Map<String, Long> k = ksmCounters().counters();
    Map<String, Long> f = frameStats();
    return KsmSample.of(
        clock, k, f.getOrDefault("FRAMES_SAVED_BY_KSM", 0L), f.getOrDefault("FRAMES_SAVED", 0L));
  }

  /** The KSM counters and the scanner's own violations. */
  PageFrame.KsmCounters ksmCounters() {
    return asks.call(
        w.frames(),
        (Long id, ActorRef<PageFrame.KsmReply> r) -> new PageFrame.GetKsmCounters(id, r),
        PageFrame.KsmCounters.class);
  }

  /** The page frames' counters. */
  Map<String, Long> frameStats() {
    return asks.ask(w.frames(), (ActorRef<PageFrame.StatsReply> r) -> new PageFrame.GetStats(r))
        .counters();
  }

  /** The end state: frames, HTABs, shadow caches, counters, and the engine's RunResult. */
  MeshResult collect(GuestLayout layout, Tally t, long invariantChecks) {
    List<long[]> frames = new ArrayList<>();
    List<long[]> addrs = new ArrayList<>();
    List<long[]> words = new ArrayList<>();
    List<ShadowDump> shadows = new ArrayList<>();
    List<VmStats> perVm = new ArrayList<>();
    Map<String, Long> hostMmu = new TreeMap<>();
    new HostMmuStats().toMap().keySet().forEach(k -> hostMmu.put(k, 0L));
    for (int vm = 0; vm < spec.vms(); vm++) {
      frames.add(readFrames(vm, (int) layout.memoryPages()));
      GuestMmu.HtabDumped h =
          asks.call(
              w.guests().get(vm),
              (Long id, ActorRef<GuestMmu.HtabReply> r) -> new GuestMmu.DumpHtab(id, r),
              GuestMmu.HtabDumped.class);
      addrs.add(h.addrs());
      words.add(h.words());
      ShadowDump dump =
          asks.ask(
                  w.hosts().get(vm),
                  (ActorRef<HostMmu.ShadowDumped> r) -> new HostMmu.DumpShadow(r))
              .dump();
      shadows.add(dump);
      dump.counters().forEach((k, n) -> hostMmu.merge(k, n, Long::sum));
      GuestMmu.KernelEvents ke =
          asks.ask(
              w.guests().get(vm),
              (ActorRef<GuestMmu.KernelEvents> r) -> new GuestMmu.GetKernelEvents(r));
      VmStats c = VmStats.of(t.sum(vm));
      c.addAll(
          VmStats.of(
              Map.of(
                  Counter.GUEST_DEMAND_MAPS, ke.demandMaps(),
                  Counter.GUEST_EVICTIONS, ke.evictions(),
                  Counter.GUEST_SLB_LOADS, ke.slbLoads(),
                  Counter.GUEST_PROT_UPGRADES, ke.protUpgrades(),
                  Counter.GUEST_MISREPORTED, ke.misreportedNotFound())));
      perVm.add(c);
    }
    PageFrame.KsmCounters kc = ksmCounters();
    Map<String, Long> fs = frameStats();
    Map<String, Long> host = new LinkedHashMap<>();
    host.put("cow_breaks", fs.getOrDefault("COW_BREAKS", 0L));
    host.put("cow_ksm", fs.getOrDefault("COW_KSM", 0L));
    host.put("zero_page_maps", fs.getOrDefault("ZERO_PAGE_MAPS", 0L));
    host.put("fresh_allocations", fs.getOrDefault("FRESH_ALLOCATIONS", 0L));
    host.put("notifier_events", fs.getOrDefault("NOTIFIER_EVENTS", 0L));
    host.put("frames_in_use", fs.getOrDefault("FRAMES_IN_USE", 0L));
    long visited = kc.counters().getOrDefault("pages_visited", 0L);
    host.put("ksm_pages_visited", visited);
    host.put("ksm_full_scans", kc.counters().getOrDefault("full_scans", 0L));
    host.put("ksmd_cpu_ns", visited * cfg.costs().ksmPageVisitNs());
    hostMmu.forEach((k, n) -> host.put("hostmmu_" + k, n));
    VmStats totals = new VmStats();
    for (VmStats s : perVm) {
      totals.addAll(s);
    }
    List<String> failures = t.failures.kept();
    RunResult rr =
        new RunResult(
            cfg.options(),
            spec.name(),
            totals,
            List.copyOf(perVm),
            Collections.unmodifiableMap(host),
            List.copyOf(t.samples),
            t.clock,
            0,
            failures,
            invariantChecks);
    return new MeshResult(
        t.sum(-1),
        t.completed,
        t.failed,
        failures,
        frames,
        addrs,
        words,
        perVm.stream().map(VmStats::toMap).map(Map::copyOf).toList(),
        List.copyOf(shadows),
        kc.counters(),
        kc.violations(),
        fs,
        rr);
  }

  /**
   * VM {@code vm}'s fingerprints of gfns 0 to {@code pages - 1}, read in chunks of {@link
   * PageFrame#READ_FRAMES_CHUNK} (the page frames may run on another node: a larger reply would
   * exceed the transport's frame size).
   */
  private long[] readFrames(int vm, int pages) {
    long[] out = new long[pages];
    for (int at = 0; at < pages; at += PageFrame.READ_FRAMES_CHUNK) {
      int start = at;
      int n = Math.min(PageFrame.READ_FRAMES_CHUNK, pages - at);
      long[] chunk =
          asks.call(
                  w.frames(),
                  (Long id, ActorRef<PageFrame.FramesReply> r) ->
                      new PageFrame.ReadFrames(id, vm, start, n, r),
                  PageFrame.FramesRead.class)
              .fingerprints();
      System.arraycopy(chunk, 0, out, start, n);
    }
    return out;
  }
}
