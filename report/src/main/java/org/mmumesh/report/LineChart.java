package org.mmumesh.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Chart 1: KSM's {@code pages_sharing} (solid) and the frames actually saved (dashed) over
 * simulated time, one colour per policy. The gap between a policy's two lines is what the kernel's
 * counter claims but the host does not save (spec 7.6 and section 10: the counters lag behind COW
 * breaks).
 *
 * <p>Each policy's series is one {@code <polyline>} per quantity with one point per sample, in
 * sample order; a series of one sample also gets a dot, an empty one nothing.
 */
public final class LineChart {
  private LineChart() {}

  /** The SVG element's id. */
  public static final String ID = "chart-ksm";

  /** The chart's width in px. */
  public static final int WIDTH = 1032;

  /** The chart's height in px. */
  public static final int HEIGHT = 430;

  /** Room left of the plot for tick labels and the y axis title. */
  public static final int LEFT = 72;

  /** Room right of the plot. */
  public static final int RIGHT = 28;

  /** Room below the plot for tick labels and the x axis title. */
  public static final int BOTTOM = 58;

  /** Stroke width of both lines. */
  public static final double STROKE = 2;

  /** Above this many milliseconds the time axis is labelled in seconds. */
  static final double SECONDS_FROM_MS = 2_000;

  /** Where the data goes for these policies (the legend's rows push the plot down). */
  public static PlotArea layout(List<PolicyReport> policies) {
    int rows = ChartFrame.legendRows(legend(policies), LEFT, WIDTH - RIGHT);
    double top = ChartFrame.plotTop(rows);
    return new PlotArea(LEFT, top, WIDTH - LEFT - RIGHT, HEIGHT - top - BOTTOM);
  }

  private static List<ChartFrame.LegendItem> legend(List<PolicyReport> policies) {
    List<ChartFrame.LegendItem> items = new ArrayList<>();
    for (int i = 0; i < policies.size(); i++) {
      PolicyReport p = policies.get(i);
      items.add(
          new ChartFrame.LegendItem(
              ChartFrame.Swatch.BOX, Palette.policy(i), p.name(), "policy " + p.label()));
    }
    items.add(
        new ChartFrame.LegendItem(
            ChartFrame.Swatch.LINE,
            Palette.MUTED,
            "pages_sharing (kernel counter)",
            "KSM's pages_sharing: what the kernel reports as saved"));
    items.add(
        new ChartFrame.LegendItem(
            ChartFrame.Swatch.DASH,
            Palette.MUTED,
            "frames really saved",
            "guest pages backed by a KSM frame minus those frames"));
    return items;
  }

  /**
   * The milliseconds per unit of the time axis: 1 (ms) or, when the longest series reaches {@value
   * #SECONDS_FROM_MS} ms, 1000 (s).
   */
  public static double timeUnitMs(List<PolicyReport> policies) {
    double maxMs = 0;
    for (PolicyReport r : policies) {
      for (SeriesPoint s : r.series()) {
        maxMs = Math.max(maxMs, s.simMs());
      }
    }
    return maxMs >= SECONDS_FROM_MS ? 1000 : 1;
  }

  /** The time axis: simulated time in {@link #timeUnitMs} units to x. */
  public static LinearScale xScale(List<PolicyReport> policies) {
    PlotArea p = layout(policies);
    double maxMs = 0;
    for (PolicyReport r : policies) {
      for (SeriesPoint s : r.series()) {
        maxMs = Math.max(maxMs, s.simMs());
      }
    }
    return LinearScale.nice(0, maxMs / timeUnitMs(policies), p.x(), p.right(), 8, false);
  }

  /** The page axis: guest pages to y (upwards). */
  public static LinearScale yScale(List<PolicyReport> policies) {
    PlotArea p = layout(policies);
    double minY = 0;
    double maxY = 0;
    for (PolicyReport r : policies) {
      for (SeriesPoint s : r.series()) {
        minY = Math.min(minY, Math.min(s.pagesSharing(), s.framesSaved()));
        maxY = Math.max(maxY, Math.max(s.pagesSharing(), s.framesSaved()));
      }
    }
    return LinearScale.nice(minY, maxY, p.bottom(), p.y(), 5, true);
  }

  /** The chart as an {@code <svg>} element. */
  public static String render(List<PolicyReport> policies) {
    PlotArea p = layout(policies);
    int points = policies.stream().mapToInt(r -> r.series().size()).sum();
    double unit = timeUnitMs(policies);
    boolean seconds = unit != 1;
    LinearScale x = xScale(policies);
    LinearScale y = yScale(policies);

    StringBuilder b = new StringBuilder(256 + points * 24);
    ChartFrame.open(
        b, ID, WIDTH, HEIGHT, "KSM pages_sharing and frames really saved", desc(policies));
    ChartFrame.legend(b, legend(policies), LEFT, WIDTH - RIGHT);
    ChartFrame.yAxis(b, y, p, "guest pages (4 KiB)");
    b.append("<g class=\"x-axis\">\n");
    for (double t : x.ticks()) {
      double xx = x.map(t);
      b.append("<line x1=\"")
          .append(Svg.n(xx))
          .append("\" x2=\"")
          .append(Svg.n(xx))
          .append("\" y1=\"")
          .append(Svg.n(p.bottom()))
          .append("\" y2=\"")
          .append(Svg.n(p.bottom() + 5))
          .append("\" stroke=\"")
          .append(Palette.AXIS)
          .append("\"/>\n");
      Svg.text(b, xx, p.bottom() + 20, "middle", "tick", Fmt.si(t));
    }
    Svg.text(
        b,
        p.x() + p.width() / 2,
        HEIGHT - 12,
        "middle",
        "axis-title",
        seconds ? "simulated time (s)" : "simulated time (ms)");
    b.append("</g>\n");
    if (points == 0) {
      ChartFrame.emptyNote(b, p, "no KSM samples");
    }
    b.append("<g class=\"series\">\n");
    for (int i = 0; i < policies.size(); i++) {
      PolicyReport r = policies.get(i);
      if (r.series().isEmpty()) {
        continue;
      }
      String colour = Palette.policy(i);
      line(b, r, colour, x, y, unit, false);
      line(b, r, colour, x, y, unit, true);
    }
    b.append("</g>\n");
    ChartFrame.close(b);
    return b.toString();
  }

  private static void line(
      StringBuilder b,
      PolicyReport r,
      String colour,
      LinearScale x,
      LinearScale y,
      double unit,
      boolean saved) {
    String quantity = saved ? "saved" : "sharing";
    b.append("<polyline class=\"line ")
        .append(quantity)
        .append("\" data-policy=\"")
        .append(Html.escape(r.name()))
        .append("\" fill=\"none\" stroke=\"")
        .append(colour)
        .append("\" stroke-width=\"")
        .append(Svg.n(STROKE))
        .append("\" stroke-linejoin=\"round\" stroke-linecap=\"round\"")
        .append(saved ? " stroke-dasharray=\"7 4\"" : "")
        .append(" points=\"");
    for (SeriesPoint s : r.series()) {
      b.append(Svg.n(x.map(s.simMs() / unit)))
          .append(',')
          .append(Svg.n(y.map(saved ? s.framesSaved() : s.pagesSharing())))
          .append(' ');
    }
    b.setLength(b.length() - 1);
    b.append("\"><title>")
        .append(Html.escape(r.name()))
        .append(saved ? ": frames really saved" : ": pages_sharing")
        .append("</title></polyline>\n");
    if (r.series().size() == 1) {
      SeriesPoint s = r.series().get(0);
      b.append("<circle class=\"dot ")
          .append(quantity)
          .append("\" cx=\"")
          .append(Svg.n(x.map(s.simMs() / unit)))
          .append("\" cy=\"")
          .append(Svg.n(y.map(saved ? s.framesSaved() : s.pagesSharing())))
          .append("\" r=\"3.5\" fill=\"")
          .append(colour)
          .append("\"/>\n");
    }
  }

  private static String desc(List<PolicyReport> policies) {
    StringBuilder d =
        new StringBuilder(
            "Line chart over simulated time of KSM's pages_sharing counter (solid) and the frames"
                + " really saved (dashed), one colour per policy.");
    for (PolicyReport r : policies) {
      List<SeriesPoint> s = r.series();
      d.append(' ').append(r.name()).append(": ");
      if (s.isEmpty()) {
        d.append("no samples.");
        continue;
      }
      SeriesPoint first = s.get(0);
      SeriesPoint last = s.get(s.size() - 1);
      d.append(s.size())
          .append(" samples to ")
          .append(Fmt.fixed(last.simMs(), 1))
          .append(" ms; pages_sharing ")
          .append(Fmt.grouped(first.pagesSharing()))
          .append(" to ")
          .append(Fmt.grouped(last.pagesSharing()))
          .append(", frames saved ")
          .append(Fmt.grouped(first.framesSaved()))
          .append(" to ")
          .append(Fmt.grouped(last.framesSaved()))
          .append('.');
    }
    return d.toString();
  }
}
