package org.mmumesh.report;

import java.util.List;

/**
 * What every chart shares: the {@code <svg>} element with its accessible {@code <title>} and {@code
 * <desc>}, a legend laid out in rows above the plot, and a y axis with grid lines, tick labels and
 * a rotated title.
 */
final class ChartFrame {
  private ChartFrame() {}

  /** Legend text size in px. */
  static final double LEGEND_FONT = 13;

  /** Height of one legend row. */
  static final double LEGEND_ROW = 22;

  /** Top of the first legend row. */
  static final double LEGEND_TOP = 10;

  /** Space between the legend and the plot (room for the top tick label). */
  static final double LEGEND_GAP = 18;

  /** Swatch kinds. */
  enum Swatch {
    LINE,
    DASH,
    BOX
  }

  /** One legend entry; {@code tooltip} becomes the entry's {@code <title>}. */
  record LegendItem(Swatch swatch, String colour, String label, String tooltip) {}

  private static double itemWidth(LegendItem it) {
    double sw = it.swatch() == Swatch.BOX ? 14 : 26;
    return sw + 6 + Svg.textWidth(it.label(), LEGEND_FONT) + 20;
  }

  /** How many rows the legend takes between {@code left} and {@code right}. */
  static int legendRows(List<LegendItem> items, double left, double right) {
    if (items.isEmpty()) {
      return 0;
    }
    int rows = 1;
    double x = left;
    for (LegendItem it : items) {
      double w = itemWidth(it);
      if (x + w > right && x > left) {
        rows++;
        x = left;
      }
      x += w;
    }
    return rows;
  }

  /** The plot's top edge below a legend of {@code rows} rows. */
  static double plotTop(int rows) {
    return LEGEND_TOP + rows * LEGEND_ROW + LEGEND_GAP;
  }

  static void open(StringBuilder b, String id, int width, int height, String title, String desc) {
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"")
        .append(Html.escape(id))
        .append("\" class=\"chart\" width=\"")
        .append(width)
        .append("\" height=\"")
        .append(height)
        .append("\" viewBox=\"0 0 ")
        .append(width)
        .append(' ')
        .append(height)
        .append("\" role=\"img\" aria-labelledby=\"")
        .append(Html.escape(id))
        .append("-title ")
        .append(Html.escape(id))
        .append("-desc\">\n<title id=\"")
        .append(Html.escape(id))
        .append("-title\">")
        .append(Html.escape(title))
        .append("</title>\n<desc id=\"")
        .append(Html.escape(id))
        .append("-desc\">")
        .append(Html.escape(desc))
        .append("</desc>\n");
  }

  static void close(StringBuilder b) {
    b.append("</svg>\n");
  }

  static void legend(StringBuilder b, List<LegendItem> items, double left, double right) {
    b.append("<g class=\"legend\">\n");
    double x = left;
    double y = LEGEND_TOP + LEGEND_ROW / 2;
    for (LegendItem it : items) {
      double w = itemWidth(it);
      if (x + w > right && x > left) {
        x = left;
        y += LEGEND_ROW;
      }
      b.append("<g class=\"legend-item\"><title>")
          .append(Html.escape(it.tooltip()))
          .append("</title>");
      switch (it.swatch()) {
        case BOX ->
            b.append("<rect x=\"")
                .append(Svg.n(x))
                .append("\" y=\"")
                .append(Svg.n(y - 7))
                .append("\" width=\"14\" height=\"14\" rx=\"2\" fill=\"")
                .append(it.colour())
                .append("\"/>");
        case LINE, DASH ->
            b.append("<line x1=\"")
                .append(Svg.n(x))
                .append("\" y1=\"")
                .append(Svg.n(y))
                .append("\" x2=\"")
                .append(Svg.n(x + 26))
                .append("\" y2=\"")
                .append(Svg.n(y))
                .append("\" stroke=\"")
                .append(it.colour())
                .append("\" stroke-width=\"3\"")
                .append(it.swatch() == Swatch.DASH ? " stroke-dasharray=\"6 4\"" : "")
                .append("/>");
      }
      double tx = x + (it.swatch() == Swatch.BOX ? 14 : 26) + 6;
      b.append("<text x=\"")
          .append(Svg.n(tx))
          .append("\" y=\"")
          .append(Svg.n(y + 4.5))
          .append("\" class=\"legend-label\">")
          .append(Html.escape(it.label()))
          .append("</text></g>\n");
      x += w;
    }
    b.append("</g>\n");
  }

  /** Horizontal grid lines with tick labels left of the plot, and the y axis title. */
  static void yAxis(StringBuilder b, LinearScale y, PlotArea p, String title) {
    b.append("<g class=\"y-axis\">\n");
    for (double t : y.ticks()) {
      double yy = y.map(t);
      b.append("<line x1=\"")
          .append(Svg.n(p.x()))
          .append("\" x2=\"")
          .append(Svg.n(p.right()))
          .append("\" y1=\"")
          .append(Svg.n(yy))
          .append("\" y2=\"")
          .append(Svg.n(yy))
          .append("\" stroke=\"")
          .append(t == 0 ? Palette.AXIS : Palette.GRID)
          .append("\" stroke-width=\"1\"/>\n");
      Svg.text(b, p.x() - 8, yy + 4, "end", "tick", Fmt.si(t));
    }
    double cx = 16;
    double cy = p.y() + p.height() / 2;
    b.append("<text transform=\"translate(")
        .append(Svg.n(cx))
        .append(' ')
        .append(Svg.n(cy))
        .append(") rotate(-90)\" text-anchor=\"middle\" class=\"axis-title\">")
        .append(Html.escape(title))
        .append("</text>\n");
    b.append("</g>\n");
  }

  /** A centred note inside an empty plot. */
  static void emptyNote(StringBuilder b, PlotArea p, String note) {
    Svg.text(b, p.x() + p.width() / 2, p.y() + p.height() / 2, "middle", "empty-note", note);
  }
}
