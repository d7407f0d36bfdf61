package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Fingerprint;

class GuestImageTest {

  @Test
  void synthetic_isDeterministic_andSeedSensitive() {
    assertThat(GuestImage.synthetic(5000, 0.3, 1)).isEqualTo(GuestImage.synthetic(5000, 0.3, 1));
    assertThat(GuestImage.synthetic(5000, 0.3, 1)).isNotEqualTo(GuestImage.synthetic(5000, 0.3, 2));
  }

  @Test
  void synthetic_mixesUniqueZeroAndRepeatedPages_inTheRequestedProportions() {
    int pages = 100_000;
    GuestImage img = GuestImage.synthetic(pages, 0.3, 7);
    Map<Long, Integer> counts = new HashMap<>();
    for (int p = 0; p < pages; p++) {
      counts.merge(img.fingerprint(p), 1, Integer::sum);
    }
    long unique = counts.values().stream().filter(c -> c == 1).count();
    long zero = counts.getOrDefault(Fingerprint.ZERO, 0);
    assertThat(unique / (double) pages).isCloseTo(0.3, within(0.01));
    assertThat(zero / (double) pages).isCloseTo(0.35, within(0.01));
    // the repeated non-zero contents: the shared pool
    assertThat(counts.size() - unique - 1).isEqualTo(GuestImage.SYNTHETIC_SHARED_CONTENTS);
    assertThat(img.distinctContents()).isEqualTo(counts.size());
  }

  @Test
  void synthetic_extremes() {
    assertThat(GuestImage.synthetic(1000, 1.0, 3).distinctContents()).isEqualTo(1000);
    assertThat(GuestImage.synthetic(1000, 0.0, 3).distinctContents())
        .isLessThanOrEqualTo(GuestImage.SYNTHETIC_SHARED_CONTENTS + 1);
  }

  @Test
  void of_copiesItsInput_andRejectsBadArguments() {
    long[] f = {1, 2, 3};
    GuestImage img = GuestImage.of(f);
    f[0] = 99;
    assertThat(img.fingerprint(0)).isEqualTo(1);
    img.toArray()[1] = 99;
    assertThat(img.fingerprint(1)).isEqualTo(2);
    assertThat(img.fingerprintOrZero(3)).isEqualTo(Fingerprint.ZERO);
    assertThatThrownBy(() -> img.fingerprint(3))
        .hasMessageContaining("page")
        .hasMessageContaining("0 to 2");
    assertThatThrownBy(() -> GuestImage.of(new long[0]))
        .hasMessageContaining("fingerprints.length");
    assertThatThrownBy(() -> GuestImage.synthetic(10, 1.1, 1))
        .hasMessageContaining("distinctFraction")
        .hasMessageContaining("0 to 1");
    assertThatThrownBy(() -> GuestImage.synthetic(0, 0.5, 1)).hasMessageContaining("pages");
  }
}
