package org.mmumesh.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;

/** Number formatting for axis ticks (short, with k/M/G suffixes) and table cells (grouped). */
public final class Fmt {
  private Fmt() {}

  private static final String[] SUFFIXES = {"", "k", "M", "G", "T", "P", "E"};

  /**
   * A short label with at most three significant digits and a decimal suffix: {@code 0}, {@code
   * 12}, {@code 2.5}, {@code 1.25k}, {@code 250k}, {@code 7.5M}, {@code 3G}. Negative values get a
   * minus sign; NaN and infinities are spelt out.
   */
  public static String si(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "∞" : "-∞";
    }
    if (v == 0) {
      return "0";
    }
    String sign = v < 0 ? "-" : "";
    double a = Math.abs(v);
    int k = 0;
    while (a >= 1000 && k < SUFFIXES.length - 1) {
      a /= 1000;
      k++;
    }
    BigDecimal r = new BigDecimal(a).round(new MathContext(3, RoundingMode.HALF_UP));
    if (r.compareTo(BigDecimal.valueOf(1000)) >= 0 && k < SUFFIXES.length - 1) {
      r = r.divide(BigDecimal.valueOf(1000)).round(new MathContext(3, RoundingMode.HALF_UP));
      k++;
    }
    if (k == 0 && r.compareTo(new BigDecimal("0.01")) < 0) {
      return sign + String.format(Locale.ROOT, "%.1e", a);
    }
    if (k == 0) {
      r = r.setScale(Math.min(Math.max(r.scale(), 0), 2), RoundingMode.HALF_UP);
    }
    String s = r.stripTrailingZeros().toPlainString();
    return sign + s + SUFFIXES[k];
  }

  /** A whole number with thousands separators: {@code 1,600,000}. */
  public static String grouped(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }

  /** A number rounded to whole units with thousands separators. */
  public static String grouped(double v) {
    return String.format(Locale.ROOT, "%,.0f", v);
  }

  /** A number with {@code decimals} decimals and thousands separators. */
  public static String fixed(double v, int decimals) {
    return String.format(Locale.ROOT, "%,." + decimals + "f", v);
  }
}
