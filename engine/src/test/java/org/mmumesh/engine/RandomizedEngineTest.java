package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/**
 * A randomized run per policy: several VMs with identical images, mixed loads and stores, KSM
 * merging during the run, the invariant checker after every fault. At the end every guest page
 * holds exactly what an independent replay of the guest's own stores says it must (a guest always
 * reads back its own last write, and never another guest's), and the C-bit invariants hold.
 */
class RandomizedEngineTest {
  private static final int VMS = 4;
  private static final int PAGES = 96;
  private static final long ACCESSES = 30_000;

  private static WorkloadSpec spec(MmuKind mmu) {
    return Workloads.identicalGuests(
        "random",
        VMS,
        1,
        PAGES,
        mmu,
        GuestImage.synthetic(PAGES, 0.4, 77),
        new ReadMostlyPhase(0.75, PAGES, Locality.ZIPF, 0.8, ACCESSES, 0.02),
        2026);
  }

  private static EngineConfig config(Policy p) {
    // A fast ksmd (whole memory every 50 us of simulated time) so merges and COW breaks
    // interleave with the guests' accesses.
    return EngineConfig.defaults(MmuOptions.defaults(p)).withInvariants(true).withKsm(400, 1, 1);
  }

  @ParameterizedTest
  @EnumSource(Policy.class)
  void book3s64_randomRun_keepsEveryInvariant_andEveryGuestsContent(Policy policy) {
    check(MmuKind.BOOK3S_64, policy);
  }

  @ParameterizedTest
  @EnumSource(Policy.class)
  void book3s32_randomRun_keepsEveryInvariant_andEveryGuestsContent(Policy policy) {
    check(MmuKind.BOOK3S_32, policy);
  }

  private static void check(MmuKind mmu, Policy policy) {
    WorkloadSpec spec = spec(mmu);
    SequentialEngine e = new SequentialEngine(spec, config(policy));
    RunResult r = e.run(null);

    assertThat(r.failures()).isEmpty();
    assertThat(r.invariantChecks()).isPositive();
    assertThat(r.totals().get(Counter.ACCESSES)).as("nothing lost").isEqualTo(VMS * ACCESSES);
    assertThat(r.host("cow_ksm")).as("KSM merged and stores broke sharing").isPositive();
    if (policy != Policy.LEGACY) {
      assertThat(r.totals().get(Counter.SPURIOUS_C)).isZero();
    }
    if (policy == Policy.STRICT) {
      assertThat(r.totals().get(Counter.MISSED_C)).isZero();
    }

    for (int vm = 0; vm < VMS; vm++) {
      Map<Long, Long> expected = replayStores(spec, vm);
      for (long gfn = 0; gfn < PAGES; gfn++) {
        long want = expected.getOrDefault(gfn, spec.initialFingerprint(gfn));
        assertThat(e.frames().load(vm, gfn, 16))
            .as("vm %d gfn %d", vm, gfn)
            .isEqualTo(Fingerprint.loadWord(want, 16));
      }
    }
  }

  /** Replays VM {@code vm}'s access stream and applies its stores to the page contents. */
  private static Map<Long, Long> replayStores(WorkloadSpec spec, int vm) {
    Map<Long, Long> content = new HashMap<>();
    AccessSource src = spec.sourceFor(vm, 0);
    AccessBatch b = new AccessBatch(512);
    while (src.fill(b) > 0) {
      for (int i = 0; i < b.size(); i++) {
        if (b.kind(i) == Access.STORE) {
          long gfn = (b.ea(i) - spec.linearMapBase()) >>> 12;
          long before = content.getOrDefault(gfn, spec.initialFingerprint(gfn));
          content.put(gfn, Fingerprint.mix(before, (int) (b.ea(i) & 0xFFF), b.value(i)));
        }
      }
    }
    return content;
  }
}
