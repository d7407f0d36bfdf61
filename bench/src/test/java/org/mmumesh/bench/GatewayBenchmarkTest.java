package org.mmumesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GatewayBenchmarkTest {

  @Test
  void theBatch_cyclesOverSixteenWindowPages_soItHitsTheTlbAfterOnePass() {
    Set<Long> pages = new HashSet<>();
    for (int i = 0; i < GatewayBenchmark.BATCH; i++) {
      long ea = GatewayBenchmark.ea(i);
      assertThat(ea).isBetween(GatewayBenchmark.WINDOW, GatewayBenchmark.WINDOW + (16 << 12) - 1);
      pages.add(ea >>> 12);
    }
    assertThat(pages).hasSize(16);
  }

  @Test
  void packedAndClassicBatches_carryTheSameAccesses() {
    var packed = GatewayBenchmark.packed(100).getPacked();
    var classic = GatewayBenchmark.classic(100);
    assertThat(packed.getKinds().size()).isEqualTo(100);
    assertThat(packed.getStoreValuesCount()).isZero();
    for (int i = 0; i < 100; i++) {
      assertThat(packed.getKinds().byteAt(i))
          .isEqualTo((byte) classic.getAccesses(i).getKindValue());
      assertThat(packed.getEffectiveAddrs(i)).isEqualTo(classic.getAccesses(i).getEffectiveAddr());
    }
  }

  @Test
  void median_ofOddAndEvenCounts() {
    assertThat(GatewayBenchmark.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
    assertThat(GatewayBenchmark.median(List.of(4.0, 1.0, 2.0, 3.0))).isEqualTo(2.5);
  }
}
