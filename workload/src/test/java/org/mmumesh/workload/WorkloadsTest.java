package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.Fingerprint;

class WorkloadsTest {
  private static final long BASE = MmuKind.LINEAR_MAP_BASE;

  private static WorkloadSpec identical(
      long pages,
      long ws,
      double read,
      Locality loc,
      double s,
      long accesses,
      double ifetch,
      long seed) {
    ReadMostlyPhase phase = new ReadMostlyPhase(read, ws, loc, s, accesses, ifetch);
    return Workloads.identicalGuests(
        "t", 3, 2, pages, MmuKind.BOOK3S_64, GuestImage.synthetic(pages, 0.3, seed), phase, seed);
  }

  @Test
  void sameSeed_givesIdenticalAccesses_whateverTheBatchCapacity() {
    WorkloadSpec a = identical(1024, 512, 0.9, Locality.ZIPF, 0.9, 20_000, 0.05, 42);
    WorkloadSpec b = identical(1024, 512, 0.9, Locality.ZIPF, 0.9, 20_000, 0.05, 42);
    Drained x = Drained.of(a.sourceFor(1, 1), 7);
    Drained y = Drained.of(b.sourceFor(1, 1), 4096);
    assertThat(x.size).isEqualTo(20_000);
    assertThat(x.sameAs(y)).isTrue();
  }

  @Test
  void differentSeedsOrVcpus_giveDifferentAccesses() {
    WorkloadSpec a = identical(1024, 512, 0.9, Locality.ZIPF, 0.9, 5_000, 0.0, 42);
    WorkloadSpec b = identical(1024, 512, 0.9, Locality.ZIPF, 0.9, 5_000, 0.0, 43);
    Drained a00 = Drained.of(a.sourceFor(0, 0), 256);
    assertThat(a00.sameAs(Drained.of(b.sourceFor(0, 0), 256))).isFalse();
    assertThat(a00.sameAs(Drained.of(a.sourceFor(0, 1), 256))).isFalse();
    assertThat(a00.sameAs(Drained.of(a.sourceFor(1, 0), 256))).isFalse();
    assertThat(Arrays.equals(a00.eas, 0, 5000, Drained.of(b.sourceFor(0, 0), 256).eas, 0, 5000))
        .isFalse();
  }

  @Test
  void readFraction_isHonoured_over100kAccesses() {
    for (double read : new double[] {0.0, 0.3, 0.8, 0.95, 1.0}) {
      WorkloadSpec spec =
          Workloads.uniformRandom("u", 1, 1, 2048, MmuKind.BOOK3S_64, read, 100_000, 7);
      Drained d = Drained.of(spec.sourceFor(0, 0), 1000);
      long loads = d.count(Access.LOAD);
      long stores = d.count(Access.STORE);
      assertThat(loads + stores).isEqualTo(100_000);
      // sigma <= 0.0016; 0.01 is > 6 sigma
      assertThat(loads / 100_000.0).as("read=%s", read).isCloseTo(read, within(0.01));
    }
  }

  @Test
  void ifetchFraction_isHonoured_andReadFractionAppliesToDataAccesses() {
    WorkloadSpec spec = identical(1024, 1024, 0.75, Locality.UNIFORM, 0, 100_000, 0.2, 3);
    Drained d = Drained.of(spec.sourceFor(0, 0), 999);
    long f = d.count(Access.IFETCH);
    long l = d.count(Access.LOAD);
    long s = d.count(Access.STORE);
    assertThat(f / 100_000.0).isCloseTo(0.2, within(0.01));
    assertThat(l / (double) (l + s)).isCloseTo(0.75, within(0.01));
    for (int i = 0; i < d.size; i++) {
      if (d.kinds[i] == Access.IFETCH.ordinal()) {
        assertThat(d.sizes[i]).isEqualTo(4);
        assertThat(d.eas[i] & 3).isZero();
        assertThat(d.values[i]).isZero();
      }
    }
  }

  @Test
  void workingSet_isRespected_andFullyCovered_underUniformLocality() {
    WorkloadSpec spec = identical(4096, 100, 0.9, Locality.UNIFORM, 0, 100_000, 0.0, 11);
    Drained d = Drained.of(spec.sourceFor(2, 1), 512);
    long[] h = d.pageHistogram(4096);
    for (int p = 0; p < 4096; p++) {
      if (p < 100) {
        assertThat(h[p]).as("page %d", p).isPositive();
      } else {
        assertThat(h[p]).as("page %d", p).isZero();
      }
    }
  }

  @Test
  void zipfLocality_makesTopPageFarMoreFrequentThanMedian_andWithinWorkingSet() {
    long ws = 2048;
    WorkloadSpec spec = identical(4096, ws, 0.95, Locality.ZIPF, 0.9, 100_000, 0.0, 5);
    Drained d = Drained.of(spec.sourceFor(0, 0), 4096);
    long[] h = d.pageHistogram(4096);
    for (int p = (int) ws; p < 4096; p++) {
      assertThat(h[p]).isZero();
    }
    long[] inWs = Arrays.copyOf(h, (int) ws);
    Arrays.sort(inWs);
    long top = inWs[inWs.length - 1];
    long median = inWs[inWs.length / 2];
    assertThat(top).isGreaterThan(20 * Math.max(1, median));
    // top page has about P(rank 1) = 1 / H(ws, 0.9) of the accesses
    double hsum = 0;
    for (int k = 1; k <= ws; k++) {
      hsum += Math.pow(k, -0.9);
    }
    assertThat(top / 100_000.0).isCloseTo(1 / hsum, within(0.01));
    // and the hot page is the same for every vCPU of every VM (same software)
    long[] other = Drained.of(spec.sourceFor(2, 1), 4096).pageHistogram(4096);
    int hot = argMax(h);
    assertThat(argMax(other)).isEqualTo(hot);
  }

  private static int argMax(long[] h) {
    int best = 0;
    for (int i = 1; i < h.length; i++) {
      if (h[i] > h[best]) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void eas_stayInTheWindow_alignedToTheWord_forBothMmuKinds() {
    for (MmuKind mmu : MmuKind.values()) {
      long pages = 300;
      WorkloadSpec spec = Workloads.uniformRandom("u", 1, 1, pages, mmu, 0.5, 50_000, 1);
      Drained d = Drained.of(spec.sourceFor(0, 0), 128);
      assertThat(spec.windowEndEa()).isEqualTo(BASE + pages * 4096);
      for (int i = 0; i < d.size; i++) {
        assertThat(d.eas[i]).isBetween(BASE, spec.windowEndEa() - mmu.wordBytes());
        assertThat(d.sizes[i]).isEqualTo(mmu.wordBytes());
        assertThat(d.eas[i] % mmu.wordBytes()).isZero();
      }
    }
  }

  @Test
  void largest32BitGuest_endsAt4GiB() {
    long max = MmuKind.BOOK3S_32.maxGuestPages();
    WorkloadSpec spec = Workloads.uniformRandom("u", 1, 1, max, MmuKind.BOOK3S_32, 0.5, 1000, 1);
    assertThat(spec.windowEndEa()).isEqualTo(1L << 32);
    assertThatThrownBy(
            () -> Workloads.uniformRandom("u", 1, 1, max + 1, MmuKind.BOOK3S_32, 0.5, 1, 1))
        .hasMessageContaining("pages")
        .hasMessageContaining(String.valueOf(max));
  }

  @Test
  void source_returnsExactlyTheAccessCount_thenZeroForever() {
    WorkloadSpec spec = Workloads.uniformRandom("u", 1, 1, 64, MmuKind.BOOK3S_64, 0.5, 10, 1);
    AccessSource src = spec.sourceFor(0, 0);
    AccessBatch b = new AccessBatch(4);
    assertThat(src.fill(b)).isEqualTo(4);
    assertThat(src.fill(b)).isEqualTo(4);
    assertThat(src.fill(b)).isEqualTo(2);
    assertThat(src.fill(b)).isZero();
    assertThat(b.size()).isZero();
    assertThat(src.fill(b)).isZero();
  }

  @Test
  void identicalGuests_everyVmStartsFromTheSameImage() {
    GuestImage img = GuestImage.synthetic(100, 0.5, 9);
    ReadMostlyPhase phase = new ReadMostlyPhase(1.0, 100, Locality.UNIFORM, 0, 10, 0);
    WorkloadSpec spec = Workloads.identicalGuests("t", 4, 1, 200, MmuKind.BOOK3S_64, img, phase, 1);
    assertThat(spec.image()).contains(img);
    assertThat(spec.initialFingerprint(42)).isEqualTo(img.fingerprint(42));
    assertThat(spec.initialFingerprint(150)).isEqualTo(Fingerprint.ZERO);
  }

  @Test
  void badParameters_areRejectedNamingTheField() {
    assertThatThrownBy(() -> identical(100, 101, 0.9, Locality.UNIFORM, 0, 1, 0, 1))
        .hasMessageContaining("workingSetPages")
        .hasMessageContaining("1 to 100");
    assertThatThrownBy(() -> new ReadMostlyPhase(1.5, 1, Locality.UNIFORM, 0, 1, 0))
        .hasMessageContaining("readFraction")
        .hasMessageContaining("0 to 1");
    assertThatThrownBy(() -> new ReadMostlyPhase(0.5, 1, Locality.ZIPF, -1, 1, 0))
        .hasMessageContaining("zipfExponent");
    assertThatThrownBy(() -> new ReadMostlyPhase(0.5, 1, Locality.UNIFORM, 0, -1, 0))
        .hasMessageContaining("accessesPerVcpu");
    WorkloadSpec spec = Workloads.uniformRandom("u", 2, 3, 64, MmuKind.BOOK3S_64, 0.5, 10, 1);
    assertThatThrownBy(() -> spec.sourceFor(2, 0))
        .hasMessageContaining("vm")
        .hasMessageContaining("0 to 1");
    assertThatThrownBy(() -> spec.sourceFor(0, 3))
        .hasMessageContaining("vcpu")
        .hasMessageContaining("0 to 2");
    GuestImage big = GuestImage.synthetic(65, 0.5, 1);
    ReadMostlyPhase phase = new ReadMostlyPhase(1.0, 10, Locality.UNIFORM, 0, 10, 0);
    assertThatThrownBy(
            () -> Workloads.identicalGuests("t", 1, 1, 64, MmuKind.BOOK3S_64, big, phase, 1))
        .hasMessageContaining("image")
        .hasMessageContaining("64");
  }
}
