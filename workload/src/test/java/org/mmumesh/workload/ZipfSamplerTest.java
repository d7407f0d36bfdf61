package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ZipfSamplerTest {

  @ParameterizedTest(name = "n={0}, s={1}")
  @CsvSource({"10, 1.2", "50, 0.9", "20, 1.0", "5, 3.0", "30, 0.3"})
  void sample_matchesZipfProbabilities_withinTolerance(long n, double s) {
    ZipfSampler z = new ZipfSampler(n, s);
    SplittableRandom rng = new SplittableRandom(99);
    int samples = 200_000;
    long[] counts = new long[(int) n + 1];
    for (int i = 0; i < samples; i++) {
      long k = z.sample(rng);
      assertThat(k).isBetween(1L, n);
      counts[(int) k]++;
    }
    double h = 0;
    for (int k = 1; k <= n; k++) {
      h += Math.pow(k, -s);
    }
    for (int k = 1; k <= n; k++) {
      double expected = Math.pow(k, -s) / h;
      double observed = counts[k] / (double) samples;
      // 5 sigma of a binomial proportion plus a little slack
      double tol = 5 * Math.sqrt(expected * (1 - expected) / samples) + 1e-4;
      assertThat(observed)
          .as("rank %d", k)
          .isCloseTo(expected, org.assertj.core.data.Offset.offset(tol));
    }
  }

  @Test
  void sample_handlesHugeN_withoutTable() {
    ZipfSampler z = new ZipfSampler(1L << 36, 0.9);
    SplittableRandom rng = new SplittableRandom(5);
    long ones = 0;
    for (int i = 0; i < 10_000; i++) {
      long k = z.sample(rng);
      assertThat(k).isBetween(1L, 1L << 36);
      if (k == 1) {
        ones++;
      }
    }
    assertThat(ones).isPositive();
  }

  @Test
  void constructor_rejectsBadExponentAndN() {
    assertThatThrownBy(() -> new ZipfSampler(10, 0.0)).hasMessageContaining("zipf-s");
    assertThatThrownBy(() -> new ZipfSampler(10, Double.NaN)).hasMessageContaining("zipf-s");
    assertThatThrownBy(() -> new ZipfSampler(0, 1.0)).hasMessageContaining("n:");
  }
}
