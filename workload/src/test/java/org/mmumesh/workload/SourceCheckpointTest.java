package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.RandomSourceState;
import org.mmumesh.checkpoint.v1.WorkloadSourceState;

/**
 * Issue 13: a vCPU's workload position and random state. The random sources' generator was replaced
 * by {@link SplitMix64}, which must give SplittableRandom's sequence draw for draw (so every run's
 * numbers are unchanged); a restored source continues with the very next access, for generators
 * (state restored) and traces (fast-forwarded) alike.
 */
class SourceCheckpointTest {

  @Test
  void splitMix64_isSplittableRandom_drawForDraw_forEveryDrawTheSourcesUse() {
    int[] intBounds = {1, 2, 3, 7, 1000, 1 << 20, (1 << 30) + 1, Integer.MAX_VALUE};
    long[] longBounds = {1, 2, 3, 4096, 1L << 40, (1L << 62) + 1, Long.MAX_VALUE / 3 * 2};
    Random pick = new Random(99);
    for (int s = 0; s < 200; s++) {
      long seed = pick.nextLong();
      SplittableRandom ref = new SplittableRandom(seed);
      SplitMix64 mine = new SplitMix64(seed);
      for (int i = 0; i < 2000; i++) {
        switch (pick.nextInt(5)) {
          case 0 -> assertThat(mine.nextLong()).isEqualTo(ref.nextLong());
          case 1 -> assertThat(mine.nextInt()).isEqualTo(ref.nextInt());
          case 2 -> assertThat(mine.nextDouble()).isEqualTo(ref.nextDouble());
          case 3 -> {
            int b = intBounds[pick.nextInt(intBounds.length)];
            assertThat(mine.nextInt(b)).isEqualTo(ref.nextInt(b));
          }
          default -> {
            long b = longBounds[pick.nextInt(longBounds.length)];
            assertThat(mine.nextLong(b)).isEqualTo(ref.nextLong(b));
          }
        }
      }
    }
  }

  @Test
  void splitMix64_stateRestored_continuesTheSameSequence() {
    SplitMix64 a = new SplitMix64(5);
    for (int i = 0; i < 1234; i++) {
      a.nextInt(1000);
    }
    SplitMix64 b = new SplitMix64(0);
    b.restore(a.state());
    for (int i = 0; i < 1000; i++) {
      assertThat(b.nextLong(77)).isEqualTo(a.nextLong(77));
    }
  }

  private static List<String> drain(AccessSource s, int batchSize, long max) {
    List<String> out = new ArrayList<>();
    AccessBatch b = new AccessBatch(batchSize);
    while (out.size() < max) {
      int n = s.fill(b);
      if (n == 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        out.add(b.kindOrdinal(i) + ":" + b.ea(i) + ":" + b.sizeBytes(i) + ":" + b.value(i));
      }
    }
    return out;
  }

  private static final String[] WORKLOADS = {
    "identical:vms=2,vcpus=2,pages=256,accesses=3000,seed=4",
    "uniform:vms=1,vcpus=2,pages=512,accesses=2500,seed=9",
    "identical:vms=1,pages=128,accesses=2000,locality=uniform,ifetch=0.2,seed=2",
  };

  /**
   * Continuation: read a random number of accesses in random batch sizes, checkpoint, restore a
   * fresh source: the rest of its stream equals the original's rest, and the checkpoints agree.
   */
  @Property(tries = 30)
  void restoredGenerator_continuesWithTheVeryNextAccess(
      @ForAll @IntRange(min = 0, max = 2) int w,
      @ForAll @IntRange(min = 0, max = 2600) int cut,
      @ForAll @IntRange(min = 1, max = 300) int batch) {
    WorkloadSpec spec = WorkloadParser.parse(WORKLOADS[w]);
    ResumableSource a = new ResumableSource(spec.sourceFor(0, spec.vcpusPerVm() - 1));
    AccessBatch b = new AccessBatch(batch);
    while (a.fetched() < cut && a.fill(b) > 0) {
      // advance
    }
    WorkloadSourceState st = a.checkpoint();
    assertThat(st.hasRandom()).as("a generator writes its state").isTrue();
    assertThat(st.getAccessesFetched()).isEqualTo(a.fetched());
    ResumableSource r = new ResumableSource(spec.sourceFor(0, spec.vcpusPerVm() - 1));
    r.restore(st);
    assertThat(r.checkpoint()).isEqualTo(st);
    assertThat(drain(r, 97, Long.MAX_VALUE)).isEqualTo(drain(a, 64, Long.MAX_VALUE));
    assertThat(r.checkpoint()).isEqualTo(a.checkpoint());
  }

  @Test
  void restoredTrace_isFastForwarded_toTheVeryNextAccess() throws Exception {
    FoldedTrace t =
        LackeyTrace.read(LackeyTraceTest.fixture())
            .fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 4096));
    WorkloadSpec spec = Workloads.traceReplay("t", 1, 2, 4096, MmuKind.BOOK3S_64, t, 5);
    List<String> whole = drain(spec.sourceFor(0, 1), 50, Long.MAX_VALUE);
    assertThat(whole.size()).isGreaterThan(100);
    for (int cut : new int[] {0, 1, 49, 50, 51, whole.size() / 2, whole.size()}) {
      ResumableSource a = new ResumableSource(spec.sourceFor(0, 1));
      drain(a, 1, cut);
      WorkloadSourceState st = a.checkpoint();
      assertThat(st.hasRandom()).isFalse();
      ResumableSource r = new ResumableSource(spec.sourceFor(0, 1));
      r.restore(st);
      assertThat(r.fetched()).isEqualTo(cut);
      assertThat(drain(r, 33, Long.MAX_VALUE))
          .as("cut " + cut)
          .isEqualTo(whole.subList(cut, whole.size()));
    }
  }

  @Test
  void restore_refusesStatesThatDoNotFit_namingTheField() throws Exception {
    WorkloadSpec gen = WorkloadParser.parse(WORKLOADS[1]);
    ResumableSource g = new ResumableSource(gen.sourceFor(0, 0));
    WorkloadSourceState tooMany =
        WorkloadSourceState.newBuilder()
            .setAccessesFetched(9)
            .setRandom(RandomSourceState.newBuilder().setRemainingAccesses(2501))
            .build();
    assertThatThrownBy(() -> g.restore(tooMany))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith(
            "random.remaining_accesses: 2501 is out of range; allowed 0 to 2500");
    FoldedTrace t =
        LackeyTrace.read(LackeyTraceTest.fixture())
            .fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 4096));
    WorkloadSpec trace = Workloads.traceReplay("t", 1, 1, 4096, MmuKind.BOOK3S_64, t, 5);
    assertThatThrownBy(
            () ->
                new ResumableSource(trace.sourceFor(0, 0))
                    .restore(
                        WorkloadSourceState.newBuilder()
                            .setRandom(RandomSourceState.getDefaultInstance())
                            .build()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("random: this source");
    assertThatThrownBy(
            () ->
                new ResumableSource(trace.sourceFor(0, 0))
                    .restore(WorkloadSourceState.newBuilder().setAccessesFetched(1L << 40).build()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("accesses_fetched: 1099511627776 is more than the source has");
    ResumableSource used = new ResumableSource(gen.sourceFor(0, 0));
    drain(used, 10, 10);
    assertThatThrownBy(() -> used.restore(WorkloadSourceState.getDefaultInstance()))
        .isInstanceOf(IllegalStateException.class);
  }
}
