package org.mmumesh.cli;

import java.io.PrintWriter;

/**
 * A one-line progress bar on standard error, redrawn in place with carriage returns. Without a
 * terminal it prints a line at every quarter instead, so logs stay readable.
 */
final class ProgressBar {
  private static final int WIDTH = 30;
  private final PrintWriter err;
  private final String label;
  private final boolean interactive;
  private final String unit;
  private int lastQuarter = -1;

  ProgressBar(PrintWriter err, String label, boolean interactive) {
    this(err, label, interactive, "accesses");
  }

  /** A bar counting {@code unit} (e.g. "pages"). */
  ProgressBar(PrintWriter err, String label, boolean interactive, String unit) {
    this.err = err;
    this.label = label;
    this.interactive = interactive;
    this.unit = unit;
  }

  /**
   * The {@code --progress} option's answer: {@code on}, {@code off}, or {@code auto} (on when
   * standard input and output are a terminal).
   *
   * @throws IllegalArgumentException naming the option and the allowed values
   */
  static boolean enabled(String option) {
    return switch (option) {
      case "on" -> true;
      case "off" -> false;
      case "auto" -> System.console() != null;
      default ->
          throw new IllegalArgumentException(
              "--progress: '" + option + "' is not allowed; allowed: auto, on, off");
    };
  }

  void update(long done, long total) {
    if (total <= 0) {
      if (interactive) {
        err.printf("\r%-24s %,d %s", label, done, unit);
        err.flush();
      }
      return;
    }
    double f = Math.min(1.0, (double) done / total);
    if (interactive) {
      int filled = (int) Math.round(f * WIDTH);
      err.printf(
          "\r%-24s [%s%s] %3d%%  %,d/%,d %s",
          label,
          "#".repeat(filled),
          "-".repeat(WIDTH - filled),
          (int) (f * 100),
          done,
          total,
          unit);
      err.flush();
    } else {
      int quarter = (int) (f * 4);
      if (quarter > lastQuarter && quarter > 0) {
        lastQuarter = quarter;
        err.printf("%s: %d%% (%,d/%,d %s)%n", label, quarter * 25, done, total, unit);
        err.flush();
      }
    }
  }

  void finish() {
    if (interactive) {
      err.println();
      err.flush();
    }
  }
}
