package org.mmumesh.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A linear map from data values to pixel coordinates, over a "nice" domain: the data's extent
 * (always including zero) widened to whole multiples of a step of 1, 2, 2.5 or 5 times a power of
 * ten, so the ticks fall on round numbers.
 *
 * @param domainMin the smallest value shown (a multiple of {@code step}, at most 0)
 * @param domainMax the largest value shown (a multiple of {@code step}, more than {@code
 *     domainMin})
 * @param rangeMin the coordinate {@code domainMin} maps to
 * @param rangeMax the coordinate {@code domainMax} maps to (may be less than {@code rangeMin}, as
 *     for a y axis growing upwards)
 * @param step the distance between ticks
 */
public record LinearScale(
    double domainMin, double domainMax, double rangeMin, double rangeMax, double step) {

  public LinearScale {
    if (!(domainMax > domainMin) || !(step > 0) || !Double.isFinite(domainMax - domainMin)) {
      throw new IllegalArgumentException(
          "domain: [" + domainMin + ", " + domainMax + "] step " + step + " is not a domain");
    }
  }

  /**
   * A nice scale for data between {@code min} and {@code max} with about {@code targetTicks}
   * intervals. When {@code integers} is true the step is at least 1 (counts have no half pages). An
   * empty or all-zero extent gives the domain [0, 1] (or [0, step] for integers).
   */
  public static LinearScale nice(
      double min, double max, double rangeMin, double rangeMax, int targetTicks, boolean integers) {
    if (targetTicks < 1) {
      throw new IllegalArgumentException(
          "targetTicks: " + targetTicks + " is out of range; allowed >= 1");
    }
    double lo = Double.isFinite(min) ? Math.min(0, min) : 0;
    double hi = Double.isFinite(max) ? Math.max(0, max) : 0;
    if (hi == lo) {
      hi = lo + (integers ? targetTicks : 1);
    }
    double step = niceStep((hi - lo) / targetTicks);
    if (integers) {
      step = Math.max(1, step);
      if (step == 2.5) {
        step = 2;
      }
    }
    double dMin = Math.floor(lo / step) * step;
    double r = Math.rint(lo / step) * step;
    if (r <= lo && r > dMin) {
      dMin = r; // lo is a multiple of step up to rounding
    }
    double dMax = Math.ceil(hi / step) * step;
    r = Math.rint(hi / step) * step;
    if (r >= hi && r < dMax) {
      dMax = r;
    }
    if (dMax <= dMin) {
      dMax = dMin + step;
    }
    return new LinearScale(dMin, dMax, rangeMin, rangeMax, step);
  }

  /** The smallest of 1, 2, 2.5, 5, 10 times a power of ten that is at least {@code rough}. */
  static double niceStep(double rough) {
    double exp = Math.floor(Math.log10(rough));
    double base = Math.pow(10, exp);
    double f = rough / base;
    double nf;
    if (f <= 1 + 1e-9) {
      nf = 1;
    } else if (f <= 2 + 1e-9) {
      nf = 2;
    } else if (f <= 2.5 + 1e-9) {
      nf = 2.5;
    } else if (f <= 5 + 1e-9) {
      nf = 5;
    } else {
      nf = 10;
    }
    return nf * base;
  }

  /** The coordinate of {@code v}; values outside the domain map outside the range. */
  public double map(double v) {
    return rangeMin + (v - domainMin) / (domainMax - domainMin) * (rangeMax - rangeMin);
  }

  /** The tick values from {@code domainMin} to {@code domainMax}, {@code step} apart. */
  public List<Double> ticks() {
    int n = (int) Math.round((domainMax - domainMin) / step);
    List<Double> t = new ArrayList<>(n + 1);
    for (int i = 0; i <= n; i++) {
      double v = domainMin + i * step;
      t.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
    }
    return t;
  }
}
