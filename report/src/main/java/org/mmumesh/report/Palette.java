package org.mmumesh.report;

import java.util.List;

/**
 * Colours: the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies. A
 * policy's colour is chosen by its position in the report, so it is the same in every chart and in
 * the table.
 */
public final class Palette {
  private Palette() {}

  /** Policy colours in order: vermillion, blue, bluish green, reddish purple, orange, sky blue. */
  public static final List<String> POLICY =
      List.of("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000");

  /** Body text. */
  public static final String INK = "#1f2933";

  /** Secondary text: axis ticks, captions. */
  public static final String MUTED = "#52606d";

  /** Grid lines. */
  public static final String GRID = "#e4e7eb";

  /** Axis lines. */
  public static final String AXIS = "#9aa5b1";

  /** The colour of the policy at {@code index} (the palette repeats after seven). */
  public static String policy(int index) {
    return POLICY.get(Math.floorMod(index, POLICY.size()));
  }
}
