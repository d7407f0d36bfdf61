package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.vcpu.VcpuCore;

/** The drivers' shared failure list and KSM sample factory. */
class RunFailuresTest {

  @Test
  void keepsTheFirstTwentyInArrivalOrder_andDropsTheRest() {
    RunFailures f = new RunFailures();
    f.add("first");
    for (int i = 0; i < 30; i++) {
      f.addAll(List.of("a" + i, "b" + i));
    }

    List<String> kept = f.kept();

    assertThat(kept).hasSize(VcpuCore.MAX_FAILURES_KEPT).hasSize(20);
    assertThat(kept.get(0)).isEqualTo("first");
    assertThat(kept.get(1)).isEqualTo("a0");
    assertThat(kept.get(2)).isEqualTo("b0");
    assertThat(kept.get(19)).isEqualTo("a9");
  }

  @Test
  void kept_isACopy_laterFailuresDoNotChangeIt() {
    RunFailures f = new RunFailures();
    f.add("x");
    List<String> before = f.kept();
    f.add("y");

    assertThat(before).containsExactly("x");
    assertThat(f.kept()).containsExactly("x", "y");
  }

  @Test
  void ksmSampleOf_readsTheSysfsNames_missingOnesAsZero() {
    KsmSample s =
        KsmSample.of(
            1234,
            Map.of("pages_shared", 3L, "pages_sharing", 9L, "full_scans", 2L, "other", 77L),
            6,
            8);

    assertThat(s).isEqualTo(new KsmSample(1234, 3, 9, 0, 0, 2, 6, 8));
  }
}
