package org.mmumesh.report;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Small helpers for writing SVG by hand. */
final class Svg {
  private Svg() {}

  /** A coordinate with at most one decimal, no exponent, no trailing zeros. */
  static String n(double v) {
    if (!Double.isFinite(v)) {
      return "0";
    }
    return BigDecimal.valueOf(v)
        .setScale(1, RoundingMode.HALF_UP)
        .stripTrailingZeros()
        .toPlainString();
  }

  /** Appends {@code <text>} with escaped content. */
  static void text(StringBuilder b, double x, double y, String anchor, String cls, String content) {
    b.append("<text x=\"")
        .append(n(x))
        .append("\" y=\"")
        .append(n(y))
        .append("\" text-anchor=\"")
        .append(anchor)
        .append("\" class=\"")
        .append(cls)
        .append("\">")
        .append(Html.escape(content))
        .append("</text>\n");
  }

  /** A rough width of {@code s} in pixels at {@code fontPx}, for laying out legends. */
  static double textWidth(String s, double fontPx) {
    return s.length() * fontPx * 0.6;
  }
}
