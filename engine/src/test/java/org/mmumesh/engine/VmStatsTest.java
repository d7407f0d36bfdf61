package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Counter;

class VmStatsTest {

  @Test
  void of_roundTripsEveryStat_throughToMap() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    long n = 1;
    for (Counter s : Counter.RUN) {
      m.put(s, n++);
    }
    assertThat(VmStats.of(m).toMap()).isEqualTo(m);
  }

  @Test
  void of_absentStatsAreZero_andNegativeCountsAreRefusedNamingTheStat() {
    assertThat(VmStats.of(Map.of(Counter.STORES, 4L)).get(Counter.LOADS)).isZero();
    assertThatThrownBy(() -> VmStats.of(Map.of(Counter.MISSED_C, -1L)))
        .hasMessage("MISSED_C: -1 is negative; allowed 0 or more");
  }
}
