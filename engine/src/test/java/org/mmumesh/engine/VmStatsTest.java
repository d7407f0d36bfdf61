package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VmStatsTest {

  @Test
  void of_roundTripsEveryStat_throughToMap() {
    Map<Stat, Long> m = new EnumMap<>(Stat.class);
    long n = 1;
    for (Stat s : Stat.values()) {
      m.put(s, n++);
    }
    assertThat(VmStats.of(m).toMap()).isEqualTo(m);
  }

  @Test
  void of_absentStatsAreZero_andNegativeCountsAreRefusedNamingTheStat() {
    assertThat(VmStats.of(Map.of(Stat.STORES, 4L)).get(Stat.LOADS)).isZero();
    assertThatThrownBy(() -> VmStats.of(Map.of(Stat.MISSED_C, -1L)))
        .hasMessage("MISSED_C: -1 is negative; allowed 0 or more");
  }
}
