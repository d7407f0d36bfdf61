package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/** {@link SequentialEngine#shadowDump} and {@link EngineConfig.SidToggleScope}. */
class ShadowDumpAndSidToggleTest {
  private static final int PAGES = 64;

  private static WorkloadSpec spec() {
    return Workloads.identicalGuests(
        "dump",
        2,
        1,
        PAGES,
        MmuKind.BOOK3S_64,
        GuestImage.synthetic(PAGES, 0.4, 5),
        new ReadMostlyPhase(0.75, PAGES, Locality.ZIPF, 0.8, 5_000, 0.0),
        7);
  }

  private static SequentialEngine run(EngineConfig.SidToggleScope scope) {
    EngineConfig c = EngineConfig.defaults(MmuOptions.defaults(Policy.STRICT)).withSidToggle(scope);
    SequentialEngine e = new SequentialEngine(spec(), c);
    e.run(null);
    return e;
  }

  @Test
  void sidToggle_isSharedByDefault_andPerVmOnRequest() {
    assertThat(EngineConfig.defaults(MmuOptions.defaults(Policy.STRICT)).sidToggle())
        .isEqualTo(EngineConfig.SidToggleScope.HOST);
    SequentialEngine shared = run(EngineConfig.SidToggleScope.HOST);
    assertThat(shared.host(0).toggle()).isSameAs(shared.host(1).toggle());
    SequentialEngine perVm = run(EngineConfig.SidToggleScope.PER_VM);
    assertThat(perVm.host(0).toggle()).isNotSameAs(perVm.host(1).toggle());
  }

  @Test
  void shadowDump_holdsEveryLiveEntry_inCanonicalOrder_andTheCoreCounters() {
    SequentialEngine e = run(EngineConfig.SidToggleScope.PER_VM);
    for (int vm = 0; vm < 2; vm++) {
      ShadowDump d = e.shadowDump(vm);
      assertThat(d.entryCount()).isEqualTo(e.host(vm).cacheCount()).isPositive();
      assertThat(d.vcpus().get(0)).isSortedAccordingTo(ShadowDump.ShadowEntry.ORDER);
      assertThat(d.vcpus().get(0)).allMatch(x -> x.hptePresent() && x.gfn() == x.raddr() >>> 12);
      assertThat(d.counters()).isEqualTo(new java.util.TreeMap<>(e.host(vm).stats().toMap()));
    }
  }
}
