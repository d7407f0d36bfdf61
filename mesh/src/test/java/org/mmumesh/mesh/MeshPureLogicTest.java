package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.engine.SimClock;
import org.mmumesh.engine.SimCosts;
import org.mmumesh.engine.VmStats;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.workload.WorkloadParser;

/** The mesh's plain helpers: the clock formula, the VmStats bridge, the shadow-cache check. */
class MeshPureLogicTest {

  @ParameterizedTest
  @EnumSource(Policy.class)
  void simClock_equalsTheSequentialEnginesClock_fromItsCounters(Policy policy) {
    var spec =
        WorkloadParser.parse(
            "identical:vms=2,pages=64,ws=48,read=0.8,accesses=3000,ifetch=0.05,seed=9");
    EngineConfig cfg =
        EngineConfig.defaults(MmuOptions.defaults(policy))
            .withKsm(100, 1, 1)
            .withCosts(new SimCosts(1, 20, 1_000, 2_000, 3_000, 1_000, 5_000, 200));
    SequentialEngine seq = new SequentialEngine(spec, cfg);
    long cowAtStart = seq.frames().cowBreaks();
    RunResult r = seq.run(null);
    assertThat(r.totals().get(Counter.NOHPTE_EXITS)).isPositive();
    // the mesh computes its clock from the vCPUs' summed counters (MeshCluster's Tally): the
    // totals of the run, with the COW breaks since the start, give the engine's clock
    assertThat(SimClock.nanos(cfg.costs(), r.totals().counts(), r.host("cow_breaks") - cowAtStart))
        .isEqualTo(r.simNanos());
  }

  @Test
  void vmStatsOfCounts_holdsEveryCounter_andListsTheRunsOnly() {
    long[] c = new long[Counter.COUNT];
    for (Counter s : Counter.values()) {
      c[s.ordinal()] = 10L + s.ordinal();
    }
    VmStats v = VmStats.of(new Counts(c));
    for (Counter s : Counter.values()) {
      assertThat(v.get(s)).as(s.name()).isEqualTo(10L + s.ordinal());
    }
    assertThat(v.toMap()).containsOnlyKeys(Counter.RUN).doesNotContainKey(Counter.TIMEOUTS);
    assertThat(v.counts()).isEqualTo(new Counts(c));
  }

  @Test
  void writableSharedFrames_namesAWritableFrameThatAnotherGfnMaps_andNothingElse() {
    ShadowDump vm0 =
        new ShadowDump(
            List.of(List.of(entry(0, 5, 100, true, true), entry(1, 6, 200, true, false))),
            Map.of());
    ShadowDump vm1 =
        new ShadowDump(
            List.of(
                List.of(
                    entry(0, 7, 100, true, false), // shares vm 0's writable frame 100
                    entry(1, 8, 200, true, false), // read-only sharing: fine
                    entry(2, 9, 300, false, true))), // a Q5 stale record: not present
            Map.of());
    ShadowDump vm2 = new ShadowDump(List.of(List.of(entry(0, 4, 300, true, true))), Map.of());

    // VMs are named by their ids (here 3, 5 and 8), not by their place in the map
    assertThat(MeshInvariants.writableSharedFrames(new TreeMap<>(Map.of(3, vm0, 5, vm1, 8, vm2))))
        .containsExactly("shadow: pfn 100 mapped writable, and shared by [vm 3 gfn 5, vm 5 gfn 7]");
    assertThat(MeshInvariants.writableSharedFrames(Map.of(3, vm0))).isEmpty();
  }

  private static ShadowDump.ShadowEntry entry(
      int index, long gfn, long pfn, boolean present, boolean writable) {
    return new ShadowDump.ShadowEntry(
        index,
        0x1000_0000L + (gfn << 12),
        gfn,
        gfn << 12,
        gfn,
        true,
        true,
        false,
        "SIZE_4K",
        gfn,
        pfn,
        index,
        present,
        writable && present,
        false,
        "SIZE_4K");
  }
}
