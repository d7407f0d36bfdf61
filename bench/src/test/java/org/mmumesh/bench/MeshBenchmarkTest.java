package org.mmumesh.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MeshBenchmark's measurement code on tiny configurations: the counts must be consistent (every
 * chain and every access completed, the messages of a fault as documented). No timing is asserted.
 */
class MeshBenchmarkTest {

  /** 1 VM x 2 vCPUs, small workloads, no warm-up, one iteration. */
  private static final MeshBenchmark.Settings TINY =
      new MeshBenchmark.Settings(1, 2, 65_536, 32, 2_000, 20, 0, 1);

  @Test
  void rawBaselineCompletesEveryChainWithItsRequestsAndReleases() {
    try (RawChainBaseline raw = new RawChainBaseline(2, 2)) {
      RawChainBaseline.Result first = raw.run(50);
      RawChainBaseline.Result second = raw.run(30);
      assertThat(raw.clients()).isEqualTo(4);
      assertThat(first.chains()).isEqualTo(4 * 50);
      assertThat(first.requests()).isEqualTo(4 * 50 * RawChainBaseline.ROUND_TRIPS);
      assertThat(first.releases()).isEqualTo(4 * 50 * RawChainBaseline.ONE_WAY);
      assertThat(second.chains()).isEqualTo(4 * 30);
      assertThat(second.requests()).isEqualTo(4 * 30 * RawChainBaseline.ROUND_TRIPS);
      assertThat(second.nanos()).isPositive();
    }
  }

  @Test
  void rawBaselineRejectsAnOutOfRangeVcpuCount() {
    assertThatThrownBy(() -> new RawChainBaseline(1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vcpus: 0")
        .hasMessageContaining("allowed 1 to 1024");
  }

  @Test
  void meshFaultWorkloadCompletesEveryAccessWithAboutFourRequestReplyPairsPerFault() {
    MeshBenchmark.Marginal m =
        MeshBenchmark.marginal(MeshBenchmark::mesh, n -> MeshBenchmark.faultWorkload(TINY, n), 32);
    assertThat(m.small().completed()).isEqualTo(2 * 32);
    assertThat(m.big().completed()).isEqualTo(2 * 32 * MeshBenchmark.LONG_FACTOR);
    assertThat(m.big().failed()).isZero();
    // the shutdown clock ran: the timed span is inside the whole call
    assertThat(m.big().nanos()).isPositive().isLessThan(m.big().wholeNanos());
    // nearly every access of 256 over 65536 pages is a first touch: two NOHPTE exits
    long accesses = m.big().completed() - m.small().completed();
    assertThat(m.big().faults() - m.small().faults()).isGreaterThan(accesses * 3 / 2);
    Map<String, Double> perFault = MeshBenchmark.messagesPerFault(m);
    assertThat(perFault.get("= request/reply pairs")).isCloseTo(4.0, within(0.25));
    assertThat(perFault.get("Xlate")).isCloseTo(1.0, within(0.01));
  }

  @Test
  void sequentialAndMeshCountTheSameFaultsOnOneVcpu() {
    MeshBenchmark.Settings one = new MeshBenchmark.Settings(1, 1, 65_536, 64, 2_000, 20, 0, 1);
    String w = MeshBenchmark.faultWorkload(one, 64);
    MeshBenchmark.Run mesh = MeshBenchmark.mesh(w);
    MeshBenchmark.Run seq = MeshBenchmark.sequential(w);
    assertThat(mesh.completed()).isEqualTo(64).isEqualTo(seq.completed());
    assertThat(mesh.faults()).isPositive().isEqualTo(seq.faults());
    assertThat(mesh.get("HOST_MAPS_RO") + mesh.get("HOST_MAPS_RW"))
        .isEqualTo(seq.get("HOST_MAPS_RO") + seq.get("HOST_MAPS_RW"));
  }

  @Test
  void hitWorkloadIsNearlyAllTlbHitsOnBothEngines() {
    for (MeshBenchmark.Marginal m :
        List.of(
            MeshBenchmark.marginal(
                MeshBenchmark::mesh, n -> MeshBenchmark.hitWorkload(TINY, n), 2_000),
            MeshBenchmark.marginal(
                MeshBenchmark::sequential, n -> MeshBenchmark.hitWorkload(TINY, n), 2_000),
            MeshBenchmark.longRunOnly(
                MeshBenchmark::sequential, n -> MeshBenchmark.hitWorkload(TINY, n), 2_000))) {
      long accesses = m.big().completed() - m.small().completed();
      assertThat(accesses)
          .isIn(
              2L * 2_000 * (MeshBenchmark.LONG_FACTOR - 1), 2L * 2_000 * MeshBenchmark.LONG_FACTOR);
      assertThat(m.delta("TLB_HITS")).isGreaterThan(accesses * 99 / 100);
    }
  }

  @Test
  void aWholeTinyRoundKeepsOneSampleOfEachMeasurement() {
    MeshBenchmark.Samples x = MeshBenchmark.measure(TINY);
    assertThat(x.raw).hasSize(1);
    assertThat(x.meshFaults).hasSize(1);
    assertThat(x.seqFaults).hasSize(1);
    assertThat(x.meshHits).hasSize(1);
    assertThat(x.seqHits).hasSize(1);
    assertThat(x.lastMeshFault.big().completed()).isEqualTo(2 * 32 * MeshBenchmark.LONG_FACTOR);
    MeshBenchmark.report(TINY, x); // prints; must not throw
  }

  @Test
  void marginalRatesAreTheDifferenceOfTheTwoRuns() {
    MeshBenchmark.Run small =
        new MeshBenchmark.Run(
            1_000_000_000L,
            2_000_000_000L,
            10,
            100,
            0,
            Map.of("NOHPTE_EXITS", 150L, "PROTFAULT_EXITS", 10L));
    MeshBenchmark.Run big =
        new MeshBenchmark.Run(
            3_000_000_000L,
            5_000_000_000L,
            510,
            500,
            0,
            Map.of("NOHPTE_EXITS", 750L, "PROTFAULT_EXITS", 50L));
    MeshBenchmark.Marginal m = new MeshBenchmark.Marginal(small, big);
    assertThat(m.seconds()).isCloseTo(2.0, within(1e-9));
    assertThat(m.accessesPerSecond()).isCloseTo(200.0, within(1e-9));
    assertThat(m.faultsPerSecond()).isCloseTo(320.0, within(1e-9));
    assertThat(m.wholeSeconds()).isCloseTo(3.0, within(1e-9));
    assertThat(m.gcSeconds()).isCloseTo(0.5, within(1e-9));
  }

  @Test
  void statsGiveTheMedianMinAndMax() {
    MeshBenchmark.Stats odd = MeshBenchmark.Stats.of(List.of(5.0, 1.0, 3.0));
    assertThat(odd).isEqualTo(new MeshBenchmark.Stats(3.0, 1.0, 5.0));
    MeshBenchmark.Stats even = MeshBenchmark.Stats.of(List.of(4.0, 1.0, 2.0, 8.0));
    assertThat(even).isEqualTo(new MeshBenchmark.Stats(3.0, 1.0, 8.0));
  }

  @Test
  void parseArgsNamesABadOption() {
    MeshBenchmark.Settings s = MeshBenchmark.Settings.standard();
    assertThat(MeshBenchmark.parseArgs(s, new String[] {"--quick", "--iterations", "2"}))
        .isEqualTo(new MeshBenchmark.Settings(1, 2, 1 << 18, 8_192, 250_000, 50_000, 1, 2));
    assertThatThrownBy(() -> MeshBenchmark.parseArgs(s, new String[] {"--vcpus", "0"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--vcpus: 0 is out of range; allowed 1 to 64");
    assertThatThrownBy(() -> MeshBenchmark.parseArgs(s, new String[] {"--fast", "1"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--fast: unknown option");
  }
}
