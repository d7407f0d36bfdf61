package org.mmumesh.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Quirk;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.VmStats;
import org.mmumesh.report.CBitAccuracy;
import org.mmumesh.report.HtmlReport;
import org.mmumesh.report.PolicyReport;
import org.mmumesh.report.ReportData;
import org.mmumesh.report.SeriesPoint;
import org.mmumesh.report.Summary;

/**
 * Maps the results of {@code mmumesh run} onto the report module's neutral model and writes the
 * HTML report ({@code --html}). The numbers are the comparison table's ({@link RunReport#row}); the
 * time series is KSM's pages_sharing beside the frames really saved by merging.
 */
final class RunHtml {
  private RunHtml() {}

  /** The report's data for these runs of one workload. */
  static ReportData toReport(String workload, String setup, List<RunResult> results) {
    List<PolicyReport> policies = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (RunResult r : results) {
      policies.add(toPolicy(r));
      names.add(r.options().policy().cliName());
    }
    return new ReportData(
        "mmumesh: Book3S PR host-side read-only pages, " + String.join(" vs ", names),
        workload,
        setup,
        policies);
  }

  static PolicyReport toPolicy(RunResult r) {
    VmStats t = r.totals();
    long reflected = RunReport.reflected(t);
    double savedPct = RunReport.savedPercent(r);
    Summary s =
        new Summary(
            t.get(Counter.ACCESSES),
            t.get(Counter.FAILED_ACCESSES),
            r.simNanos() / 1e6,
            t.get(Counter.NOHPTE_EXITS),
            t.get(Counter.PROTFAULT_EXITS),
            reflected,
            r.host("cow_ksm"),
            r.host("zero_page_maps"),
            t.get(Counter.SPURIOUS_C),
            t.get(Counter.MISSED_C),
            r.meanPagesSharing(),
            r.meanFramesSavedByKsm(),
            savedPct,
            r.last().framesSavedByKsm());
    List<SeriesPoint> series = new ArrayList<>(r.samples().size());
    for (KsmSample k : r.samples()) {
      series.add(new SeriesPoint(k.simNanos() / 1e6, k.pagesSharing(), k.framesSavedByKsm()));
    }
    long stores = t.get(Counter.STORES);
    // Stores that did not complete with C clear; a failed store (rare, counted in "failed")
    // is counted here too, since the counters do not split failures by access kind.
    long correct = Math.max(0, stores - t.get(Counter.MISSED_C));
    return new PolicyReport(
        r.options().policy().cliName(),
        r.options().quirks().stream().sorted().map(Quirk::shortName).toList(),
        s,
        series,
        new CBitAccuracy(stores, correct, t.get(Counter.SPURIOUS_C), t.get(Counter.MISSED_C)));
  }

  /** Writes the report to {@code file}. */
  static void write(Path file, String workload, String setup, List<RunResult> results) {
    try {
      HtmlReport.write(toReport(workload, setup, results), file);
    } catch (IOException e) {
      throw FatalErrors.writeFailure("--html", file, e);
    }
  }
}
