package org.mmumesh.report;

/**
 * Where a chart draws its data, in the SVG's user units (CSS pixels when the SVG is shown at its
 * natural size). Exposed so tests can find the plot in a screenshot.
 *
 * @param x left edge
 * @param y top edge
 * @param width width
 * @param height height
 */
public record PlotArea(double x, double y, double width, double height) {
  /** The right edge. */
  public double right() {
    return x + width;
  }

  /** The bottom edge (the baseline of bars). */
  public double bottom() {
    return y + height;
  }
}
