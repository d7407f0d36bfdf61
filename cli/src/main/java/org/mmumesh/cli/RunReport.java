package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.Counter;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.VmStats;

/** The comparison table {@code mmumesh run} prints: one row per policy, same workload. */
final class RunReport {
  private RunReport() {}

  static final String[] HEADER = {
    "policy",
    "accesses",
    "failed",
    "sim ms",
    "NOHPTE",
    "PROTFAULT",
    "reflected",
    "COW(ksm)",
    "zero maps",
    "spurious C",
    "missed C",
    "sharing(mean)",
    "saved(mean)",
    "saved %",
    "saved(end)"
  };

  /** Faults reflected to the guest, of every kind (the table's "reflected"). */
  static long reflected(VmStats t) {
    return t.get(Counter.REFLECTED_NOT_FOUND)
        + t.get(Counter.REFLECTED_PROTECTION)
        + t.get(Counter.REFLECTED_SEGMENT)
        + t.get(Counter.REFLECTED_RAW);
  }

  /**
   * Memory really saved on average, relative to what KSM had merged before the guests ran; NaN
   * ("n/a") if it had merged nothing then: saved(mean) may still be positive (pages merged during
   * the run), but there is nothing to be relative to.
   */
  static double savedPercent(RunResult r) {
    KsmSample first = r.samples().get(0);
    return first.framesSavedByKsm() == 0
        ? Double.NaN
        : 100.0 * r.meanFramesSavedByKsm() / first.framesSavedByKsm();
  }

  /** {@link #savedPercent} as the table shows it: "12.4%" or "n/a". */
  static String savedPercentText(RunResult r) {
    double p = savedPercent(r);
    return Double.isNaN(p) ? "n/a" : String.format("%.1f%%", p);
  }

  static String[] row(RunResult r) {
    VmStats t = r.totals();
    long reflected = reflected(t);
    return new String[] {
      r.options().describe(),
      String.format("%,d", t.get(Counter.ACCESSES)),
      String.format("%,d", t.get(Counter.FAILED_ACCESSES)),
      String.format("%.1f", r.simNanos() / 1e6),
      String.format("%,d", t.get(Counter.NOHPTE_EXITS)),
      String.format("%,d", t.get(Counter.PROTFAULT_EXITS)),
      String.format("%,d", reflected),
      String.format("%,d", r.host("cow_ksm")),
      String.format("%,d", r.host("zero_page_maps")),
      String.format("%,d", t.get(Counter.SPURIOUS_C)),
      String.format("%,d", t.get(Counter.MISSED_C)),
      String.format("%,.0f", r.meanPagesSharing()),
      String.format("%,.0f", r.meanFramesSavedByKsm()),
      savedPercentText(r),
      String.format("%,d", r.last().framesSavedByKsm())
    };
  }

  /** Every counter, one row per counter, one column per run. */
  static void printDetails(PrintWriter out, List<RunResult> results) {
    List<String> header = new ArrayList<>(List.of("counter"));
    results.forEach(r -> header.add(r.options().policy().cliName()));
    List<String[]> rows = new ArrayList<>();
    for (Counter s : Counter.RUN) {
      List<String> row = new ArrayList<>(List.of(s.name().toLowerCase(java.util.Locale.ROOT)));
      results.forEach(r -> row.add(String.format("%,d", r.totals().get(s))));
      rows.add(row.toArray(String[]::new));
    }
    java.util.Set<String> hostKeys = new java.util.TreeSet<>();
    results.forEach(r -> hostKeys.addAll(r.host().keySet()));
    for (String k : hostKeys) {
      List<String> row = new ArrayList<>(List.of("host." + k.toLowerCase(java.util.Locale.ROOT)));
      results.forEach(r -> row.add(String.format("%,d", r.host(k))));
      rows.add(row.toArray(String[]::new));
    }
    out.println();
    out.println("All counters (summed over the VMs; host.* are host-wide):");
    TranslateDemo.printTable(out, header.toArray(String[]::new), rows);
  }

  /** Writes every run's KSM samples as CSV, one row per (policy, sample). */
  static void writeSeries(java.nio.file.Path file, List<RunResult> results) {
    StringBuilder b =
        new StringBuilder(
            "policy,sim_ms,pages_shared,pages_sharing,pages_unshared,pages_volatile,full_scans,"
                + "frames_saved_by_ksm,frames_saved\n");
    for (RunResult r : results) {
      for (KsmSample k : r.samples()) {
        b.append(
            String.format(
                java.util.Locale.ROOT,
                "%s,%.3f,%d,%d,%d,%d,%d,%d,%d%n",
                r.options().policy().cliName(),
                k.simNanos() / 1e6,
                k.pagesShared(),
                k.pagesSharing(),
                k.pagesUnshared(),
                k.pagesVolatile(),
                k.fullScans(),
                k.framesSavedByKsm(),
                k.framesSaved()));
      }
    }
    try {
      java.nio.file.Files.writeString(file, b.toString());
    } catch (java.io.IOException e) {
      throw FatalErrors.writeFailure("--series", file, e);
    }
  }

  static void print(PrintWriter out, List<RunResult> results) {
    List<String[]> rows = new ArrayList<>();
    for (RunResult r : results) {
      rows.add(row(r));
    }
    TranslateDemo.printTable(out, HEADER, rows);
    out.println();
    out.println(
        "sharing(mean): KSM's pages_sharing averaged over the samples; saved(mean): guest pages"
            + " backed by a KSM frame minus those frames, i.e. memory really saved, averaged over"
            + " the same samples; saved %: saved(mean) relative to what KSM had merged before the"
            + " guests ran; saved(end): memory really saved when the run ended. The kernel's counters lag behind COW breaks (spec 7.6), so under"
            + " legacy sharing(mean) can stay high while saved(mean) collapses.");
    if (results.stream().anyMatch(r -> Double.isNaN(savedPercent(r)))) {
      out.println(org.mmumesh.report.Summary.NOT_APPLICABLE_NOTE + ".");
    }
    for (RunResult r : results) {
      if (!r.failures().isEmpty()) {
        out.println();
        out.println(r.options().describe() + ": first failed accesses:");
        r.failures().forEach(f -> out.println("  " + f));
      }
      if (r.invariantChecks() > 0) {
        out.printf(
            "%s: %,d invariant checks passed%n", r.options().describe(), r.invariantChecks());
      }
    }
  }
}
