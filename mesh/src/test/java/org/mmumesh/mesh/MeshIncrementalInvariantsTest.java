package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/**
 * The mesh's per-round {@code --check-invariants} is incremental ({@code CheckInvariants(true)} on
 * the page frames, their KSM scanner and every host MMU): along a lockstep run with merges, COW
 * breaks and flushes it agrees with the full check after every round (both empty), and the run with
 * it gives the run without it.
 */
class MeshIncrementalInvariantsTest {
  private static final int PAGES = 96;

  private static WorkloadSpec spec() {
    long[] image = new long[PAGES];
    for (int p = 0; p < PAGES; p++) {
      image[p] = org.mmumesh.common.Fingerprint.avalanche(p % 24);
    }
    return Workloads.identicalGuests(
        "mesh-inv",
        2,
        1,
        PAGES,
        MmuKind.BOOK3S_64,
        org.mmumesh.workload.GuestImage.of(image),
        new ReadMostlyPhase(0.9, PAGES, Locality.UNIFORM, 0, 3_000, 0),
        3);
  }

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"LEGACY", "STRICT"})
  void everyRound_incrementalAgreesWithFull(Policy policy) {
    EngineConfig cfg = EngineConfig.defaults(MmuOptions.defaults(policy)).withKsm(40, 1, 1);
    AtomicInteger rounds = new AtomicInteger();
    MeshResult r;
    try (MeshCluster c = MeshCluster.embedded(spec(), cfg)) {
      r =
          c.run(
              MeshEngine.Pacing.LOCKSTEP,
              round -> {
                assertThat(c.invariantViolations(true, round)).as("round %d", round).isEmpty();
                assertThat(c.invariantViolations()).as("round %d", round).isEmpty();
                rounds.incrementAndGet();
              });
    }
    assertThat(rounds.get()).isGreaterThan(10);
    MeshResult plain = MeshEngine.run(spec(), cfg.withInvariants(false));
    MeshResult checked = MeshEngine.run(spec(), cfg.withInvariants(true));
    assertThat(checked.runResult().simNanos()).isEqualTo(plain.runResult().simNanos());
    assertThat(checked.runResult().invariantChecks()).isPositive();
    assertThat(r.runResult().simNanos()).isEqualTo(plain.runResult().simNanos());
  }
}
