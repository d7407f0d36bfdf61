package org.mmumesh.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A grouped bar chart: one group per kind (a fault kind, a C-bit outcome), one bar per policy in
 * the policy's colour, the value written above each bar. Charts 2 and 3 are instances.
 *
 * <p>Every bar is a {@code <rect class="bar">} carrying {@code data-policy}, {@code data-kind} and
 * {@code data-value}, so there are exactly policies × kinds of them; a zero value gives a bar of
 * height 0 and the label {@code 0}.
 */
public final class BarChart {
  private BarChart() {}

  /** The chart's width in px (two fit side by side in the page's column). */
  public static final int WIDTH = 504;

  /** The chart's height in px. */
  public static final int HEIGHT = 380;

  /** Room left of the plot for tick labels and the y axis title. */
  public static final int LEFT = 62;

  /** Room right of the plot. */
  public static final int RIGHT = 14;

  /** Room below the plot for the group labels. */
  public static final int BOTTOM = 40;

  /** Widest bar. */
  public static final double MAX_BAR = 40;

  /** Space between the bars of a group. */
  public static final double BAR_GAP = 6;

  /** Share of a group's width its bars take. */
  public static final double GROUP_FILL = 0.86;

  /** Narrowest bar that still gets a value label. */
  static final double MIN_LABELLED_BAR = 14;

  /** Where the data goes for these policies (the legend's rows push the plot down). */
  public static PlotArea layout(List<String> policies) {
    int rows = ChartFrame.legendRows(legend(policies), LEFT, WIDTH - RIGHT);
    double top = ChartFrame.plotTop(rows);
    return new PlotArea(LEFT, top, WIDTH - LEFT - RIGHT, HEIGHT - top - BOTTOM);
  }

  /** The value axis for these policies when the largest value is {@code max}. */
  public static LinearScale yScale(List<String> policies, long max) {
    PlotArea p = layout(policies);
    return LinearScale.nice(0, max, p.bottom(), p.y(), 5, true);
  }

  /** The width of each bar for this many policies and kinds. */
  public static double barWidth(int policies, int kinds) {
    double groupW = (WIDTH - LEFT - RIGHT) / (double) Math.max(1, kinds);
    int n = Math.max(1, policies);
    return Math.max(1, Math.min(MAX_BAR, (groupW * GROUP_FILL - (n - 1) * BAR_GAP) / n));
  }

  /**
   * The x of the left edge of policy {@code i}'s bar in group {@code g}, relative to the plot's
   * left edge.
   */
  public static double barX(int policies, int kinds, int g, int i) {
    double groupW = (WIDTH - LEFT - RIGHT) / (double) Math.max(1, kinds);
    double w = barWidth(policies, kinds);
    double total = policies * w + (policies - 1) * BAR_GAP;
    return g * groupW + (groupW - total) / 2 + i * (w + BAR_GAP);
  }

  private static List<ChartFrame.LegendItem> legend(List<String> policies) {
    List<ChartFrame.LegendItem> items = new ArrayList<>();
    for (int i = 0; i < policies.size(); i++) {
      items.add(
          new ChartFrame.LegendItem(
              ChartFrame.Swatch.BOX, Palette.policy(i), policies.get(i), policies.get(i)));
    }
    return items;
  }

  /**
   * The chart as an {@code <svg>} element.
   *
   * @param id the SVG element's id
   * @param title the accessible title
   * @param intro the first sentence of the accessible description (the values follow)
   * @param kinds the groups' labels
   * @param policies the bars' labels within each group, in colour order
   * @param values {@code values.get(i).get(g)}: policy {@code i}'s value in group {@code g}
   * @param yTitle the y axis title, with its unit
   */
  public static String render(
      String id,
      String title,
      String intro,
      List<String> kinds,
      List<String> policies,
      List<List<Long>> values,
      String yTitle) {
    if (values.size() != policies.size()) {
      throw new IllegalArgumentException(
          "values: " + values.size() + " rows for " + policies.size() + " policies");
    }
    long max = 0;
    for (List<Long> row : values) {
      if (row.size() != kinds.size()) {
        throw new IllegalArgumentException(
            "values: a row of " + row.size() + " for " + kinds.size() + " kinds");
      }
      for (long v : row) {
        Checks.nonNegative("value", v);
        max = Math.max(max, v);
      }
    }
    PlotArea p = layout(policies);
    LinearScale y = yScale(policies, max);
    int n = policies.size();
    int k = kinds.size();
    double groupW = p.width() / Math.max(1, k);
    double w = barWidth(n, k);

    StringBuilder b = new StringBuilder(4096);
    ChartFrame.open(b, id, WIDTH, HEIGHT, title, desc(intro, kinds, policies, values));
    ChartFrame.legend(b, legend(policies), LEFT, WIDTH - RIGHT);
    ChartFrame.yAxis(b, y, p, yTitle);
    b.append("<g class=\"x-axis\">\n");
    for (int g = 0; g < k; g++) {
      double cx = p.x() + g * groupW + groupW / 2;
      Svg.text(b, cx, p.bottom() + 22, "middle", "group-label", kinds.get(g));
    }
    b.append("</g>\n<g class=\"bars\">\n");
    if (n == 0 || k == 0) {
      ChartFrame.emptyNote(b, p, "no data");
    }
    for (int g = 0; g < k; g++) {
      for (int i = 0; i < n; i++) {
        long v = values.get(i).get(g);
        double x0 = p.x() + barX(n, k, g, i);
        double top = y.map(v);
        b.append("<rect class=\"bar\" data-policy=\"")
            .append(Html.escape(policies.get(i)))
            .append("\" data-kind=\"")
            .append(Html.escape(kinds.get(g)))
            .append("\" data-value=\"")
            .append(v)
            .append("\" x=\"")
            .append(Svg.n(x0))
            .append("\" y=\"")
            .append(Svg.n(top))
            .append("\" width=\"")
            .append(Svg.n(w))
            .append("\" height=\"")
            .append(Svg.n(p.bottom() - top))
            .append("\" fill=\"")
            .append(Palette.policy(i))
            .append("\"><title>")
            .append(Html.escape(policies.get(i)))
            .append(", ")
            .append(Html.escape(kinds.get(g)))
            .append(": ")
            .append(Fmt.grouped(v))
            .append("</title></rect>\n");
        if (w >= MIN_LABELLED_BAR) {
          Svg.text(b, x0 + w / 2, top - 5, "middle", "value", Fmt.si(v));
        }
      }
    }
    b.append("</g>\n");
    ChartFrame.close(b);
    return b.toString();
  }

  private static String desc(
      String intro, List<String> kinds, List<String> policies, List<List<Long>> values) {
    StringBuilder d = new StringBuilder(intro);
    for (int i = 0; i < policies.size(); i++) {
      d.append(' ').append(policies.get(i)).append(':');
      for (int g = 0; g < kinds.size(); g++) {
        d.append(g == 0 ? " " : ", ")
            .append(kinds.get(g))
            .append(' ')
            .append(Fmt.grouped(values.get(i).get(g)));
      }
      d.append('.');
    }
    return d.toString();
  }
}
