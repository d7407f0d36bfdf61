package org.mmumesh.workload;

import java.util.random.RandomGenerator;
import org.mmumesh.common.Checks;

/**
 * Samples ranks {@code 1..n} with {@code P(k) proportional to 1 / k^s} in O(1) expected time and
 * O(1) memory, by rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996), the method
 * Apache Commons uses. The expected number of uniform draws per sample is below 1.1 for any {@code
 * n} and {@code s}; no table is built, so {@code n} may be as large as a guest's memory.
 *
 * <p>Immutable; the randomness comes from the caller's generator.
 */
public final class ZipfSampler {
  /** The largest exponent accepted. */
  public static final double MAX_EXPONENT = 10.0;

  private final long n;
  private final double exponent;
  private final double hIntegralX1;
  private final double hIntegralN;
  private final double s;

  /**
   * @param n the number of ranks, 1 or more
   * @param exponent the Zipf exponent {@code s}, greater than 0 and at most {@link #MAX_EXPONENT}
   */
  public ZipfSampler(long n, double exponent) {
    Checks.inRange("n", n, 1, Long.MAX_VALUE / 2);
    if (!(exponent > 0.0 && exponent <= MAX_EXPONENT)) {
      throw new IllegalArgumentException(
          "zipf-s: " + exponent + " is out of range; allowed greater than 0 to " + MAX_EXPONENT);
    }
    this.n = n;
    this.exponent = exponent;
    this.hIntegralX1 = hIntegral(1.5) - 1.0;
    this.hIntegralN = hIntegral(n + 0.5);
    this.s = 2.0 - hIntegralInverse(hIntegral(2.5) - h(2.0));
  }

  /** The number of ranks. */
  public long n() {
    return n;
  }

  /** The exponent. */
  public double exponent() {
    return exponent;
  }

  /** A rank in {@code 1..n}; rank 1 is the most likely. */
  public long sample(RandomGenerator rng) {
    while (true) {
      double u = hIntegralN + rng.nextDouble() * (hIntegralX1 - hIntegralN);
      double x = hIntegralInverse(u);
      long k = (long) (x + 0.5);
      if (k < 1) {
        k = 1;
      } else if (k > n) {
        k = n;
      }
      if (k - x <= s || u >= hIntegral(k + 0.5) - h(k)) {
        return k;
      }
    }
  }

  /** {@code H(x)}: an integral of {@code h}, {@code ((x^(1-s)) - 1) / (1 - s)} or {@code log x}. */
  private double hIntegral(double x) {
    double logX = Math.log(x);
    return helper2((1.0 - exponent) * logX) * logX;
  }

  /** {@code h(x) = 1 / x^s}. */
  private double h(double x) {
    return Math.exp(-exponent * Math.log(x));
  }

  /** The inverse of {@link #hIntegral}. */
  private double hIntegralInverse(double x) {
    double t = x * (1.0 - exponent);
    if (t < -1.0) {
      t = -1.0; // rounding guard, as in Hörmann-Derflinger
    }
    return Math.exp(helper1(t) * x);
  }

  /** {@code log1p(x) / x}, continuous at 0. */
  private static double helper1(double x) {
    return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
  }

  /** {@code expm1(x) / x}, continuous at 0. */
  private static double helper2(double x) {
    return Math.abs(x) > 1e-8
        ? Math.expm1(x) / x
        : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
  }
}
