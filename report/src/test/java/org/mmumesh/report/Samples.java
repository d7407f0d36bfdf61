package org.mmumesh.report;

import java.util.ArrayList;
import java.util.List;

/** Report data with known values for the tests. */
final class Samples {
  private Samples() {}

  /**
   * A policy whose series is {@code n} samples 10 ms apart: pages_sharing falls linearly from
   * {@code from} to {@code to} over the first half and stays flat at {@code to} for the second;
   * frames saved is always {@code savedGap} below it.
   */
  static List<SeriesPoint> series(int n, long from, long to, long savedGap) {
    List<SeriesPoint> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double t = Math.min(1.0, i / (n / 2.0));
      long v = Math.round(from + (to - from) * t);
      s.add(new SeriesPoint(i * 10.0, v, v - savedGap));
    }
    return s;
  }

  static Summary summary(
      long nohpte, long protfault, long reflected, long cow, long spurious, long missed) {
    return new Summary(
        1_000_000, 0, 1234.5, nohpte, protfault, reflected, cow, 0, spurious, missed, 9000, 8000,
        75.5, 7000);
  }

  static PolicyReport policy(
      String name,
      List<SeriesPoint> series,
      long nohpte,
      long protfault,
      long reflected,
      long cow,
      long stores,
      long spurious,
      long missed) {
    return new PolicyReport(
        name,
        List.of("q3", "q4"),
        summary(nohpte, protfault, reflected, cow, spurious, missed),
        series,
        new CBitAccuracy(stores, stores - missed, spurious, missed));
  }

  /** Three policies with clearly different lines and bars (none zero). */
  static ReportData three() {
    return new ReportData(
        "Known data",
        "identical:vms=2",
        "engine sequential",
        List.of(
            policy(
                "legacy",
                series(40, 12_000, 2_000, 1_000),
                90_000,
                1_000,
                30_000,
                60_000,
                20_000,
                40_000,
                0),
            policy(
                "fixed",
                series(40, 12_000, 7_000, 500),
                60_000,
                20_000,
                30_000,
                10_000,
                20_000,
                0,
                5_000),
            policy(
                "strict",
                series(40, 12_000, 11_000, 0),
                30_000,
                40_000,
                30_000,
                10_000,
                20_000,
                0,
                0)));
  }
}
