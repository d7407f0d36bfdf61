package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;

class AddressFoldingTest {
  private static final long BASE = MmuKind.LINEAR_MAP_BASE;

  @Test
  void fold_renumbersPagesByFirstTouch_keepingOffsets() {
    AddressFolding f = AddressFolding.forGuest(MmuKind.BOOK3S_64, 8);
    assertThat(f.fold(0x7fff_1234_5678L)).isEqualTo(BASE + 0x678);
    assertThat(f.fold(0x0040_0010L)).isEqualTo(BASE + 0x1000 + 0x010);
    assertThat(f.fold(0x7fff_1234_5ff8L)).isEqualTo(BASE + 0xff8);
    assertThat(f.fold(0xffff_ffff_ffff_f000L)).isEqualTo(BASE + 0x2000);
    assertThat(f.distinctPages()).isEqualTo(3);
    assertThat(f.windowPageOf(0x0040_0010L >>> 12)).isEqualTo(1);
    assertThat(f.windowPageOf(0x1234)).isEqualTo(-1);
  }

  @Test
  void fold_manyPages_staysConsistentAcrossTableGrowth() {
    AddressFolding f = new AddressFolding(BASE, 10_000);
    for (int round = 0; round < 2; round++) {
      for (long k = 0; k < 10_000; k++) {
        long addr = (k * 0x9E3779B97F4A7C15L) & 0x0000_ffff_ffff_f000L | (k & 0xff8);
        long ea = f.fold(addr);
        assertThat(ea).isEqualTo(BASE + (k << 12) + (k & 0xff8));
      }
    }
    assertThat(f.distinctPages()).isEqualTo(10_000);
  }

  @Test
  void fold_failsWhenTheTraceTouchesMorePagesThanTheWindowHolds() {
    AddressFolding f = new AddressFolding(BASE, 2);
    f.fold(0x1000);
    f.fold(0x2000);
    f.fold(0x1008); // old page: fine
    assertThatThrownBy(() -> f.fold(0x3000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pages")
        .hasMessageContaining("holds 2 pages")
        .hasMessageContaining("0x3000");
  }

  @Test
  void constructor_rejectsUnalignedBaseAndBadSize() {
    assertThatThrownBy(() -> new AddressFolding(BASE + 8, 1)).hasMessageContaining("windowBaseEa");
    assertThatThrownBy(() -> new AddressFolding(BASE, 0)).hasMessageContaining("windowPages");
  }

  @Test
  void traceFold_splitsAccessesCrossingAPage() {
    LackeyTrace t = LackeyTrace.parse(" S 7ffc,8\nI  5000,2\n L 8ffe,4\n", "x");
    FoldedTrace ft = t.fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 16));
    assertThat(ft.size()).isEqualTo(5);
    assertThat(ft.kind(0)).isEqualTo(Access.STORE);
    assertThat(ft.ea(0)).isEqualTo(BASE + 0xffc);
    assertThat(ft.sizeBytes(0)).isEqualTo(4);
    assertThat(ft.kind(1)).isEqualTo(Access.STORE);
    assertThat(ft.ea(1)).isEqualTo(BASE + 0x1000);
    assertThat(ft.sizeBytes(1)).isEqualTo(4);
    assertThat(ft.ea(2)).isEqualTo(BASE + 0x2000); // page 5 is the third page touched
    assertThat(ft.ea(3)).isEqualTo(BASE + 0x1ffe); // page 8 was the second
    assertThat(ft.sizeBytes(3)).isEqualTo(2);
    assertThat(ft.ea(4)).isEqualTo(BASE + 0x3000); // page 9 is new
    assertThat(ft.sizeBytes(4)).isEqualTo(2);
    assertThat(ft.distinctPages()).isEqualTo(4);
  }

  @Test
  void traceFold_windowTooSmall_failsNamingTheLine() {
    LackeyTrace t = LackeyTrace.parse("I  1000,4\n L 2000,4\n S 3000,4\n", "small.txt");
    assertThatThrownBy(() -> t.fold(new AddressFolding(BASE, 2)))
        .hasMessageContaining("small.txt line 3")
        .hasMessageContaining("raise pages");
  }

  @Test
  void realTrace_foldsIntoTheWindow_likeAnIndependentFirstTouchMap() throws Exception {
    LackeyTrace t = LackeyTrace.read(LackeyTraceTest.fixture());
    FoldedTrace ft = t.fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 4096));
    Map<Long, Long> firstTouch = new HashMap<>();
    int j = 0;
    for (int i = 0; i < t.size(); i++) {
      long a = t.address(i);
      long end = a + t.sizeBytes(i);
      while (a < end) {
        long piece = Math.min(end - a, 4096 - (a & 4095));
        long wp = firstTouch.computeIfAbsent(a >>> 12, k -> (long) firstTouch.size());
        assertThat(ft.ea(j)).isEqualTo(BASE + (wp << 12) + (a & 4095));
        assertThat(ft.sizeBytes(j)).isEqualTo(piece);
        assertThat(ft.kind(j)).isEqualTo(t.kind(i));
        j++;
        a += piece;
      }
    }
    assertThat(ft.size()).isEqualTo(j);
    assertThat(ft.distinctPages()).isEqualTo(firstTouch.size());
    for (int i = 0; i < ft.size(); i++) {
      assertThat(ft.ea(i) + ft.sizeBytes(i)).isLessThanOrEqualTo(BASE + ft.distinctPages() * 4096L);
    }
  }

  @Test
  void traceReplay_isDeterministic_andStoreValuesFollowTheSeed() throws Exception {
    FoldedTrace ft =
        LackeyTrace.read(LackeyTraceTest.fixture())
            .fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 4096));
    WorkloadSpec s1 = Workloads.traceReplay("t", 2, 2, 4096, MmuKind.BOOK3S_64, ft, 5);
    WorkloadSpec s2 = Workloads.traceReplay("t", 2, 2, 4096, MmuKind.BOOK3S_64, ft, 6);
    Drained a = Drained.of(s1.sourceFor(0, 0), 33);
    assertThat(a.size).isEqualTo(ft.size());
    assertThat(a.sameAs(Drained.of(s1.sourceFor(1, 1), 1024))).isTrue();
    Drained b = Drained.of(s2.sourceFor(0, 0), 33);
    assertThat(a.sameAs(b)).isFalse();
    assertThat(a.eas).isEqualTo(b.eas);
    for (int i = 0; i < a.size; i++) {
      if (a.kinds[i] != Access.STORE.ordinal()) {
        assertThat(a.values[i]).isZero();
      }
    }
  }

  @Test
  void traceReplay_rejectsATraceFoldedForAnotherWindow() throws Exception {
    FoldedTrace ft =
        LackeyTrace.parse("I  1000,4\n", "x").fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 100));
    assertThatThrownBy(() -> Workloads.traceReplay("t", 1, 1, 50, MmuKind.BOOK3S_64, ft, 1))
        .hasMessageContaining("trace")
        .hasMessageContaining("50");
  }
}
