package org.mmumesh.report;

import java.util.List;
import java.util.Objects;

/**
 * One policy's results in a run.
 *
 * @param name the policy, e.g. {@code legacy}
 * @param quirks the quirk flags in force, e.g. {@code [q3, q4]}; empty for none
 * @param summary the comparison table's numbers
 * @param series the KSM time series, in the order sampled (may be empty)
 * @param cBits how well the guest's changed (C) bits tracked stores
 * @throws IllegalArgumentException when {@code cBits} and {@code summary} disagree on spurious or
 *     missed C bits
 */
public record PolicyReport(
    String name,
    List<String> quirks,
    Summary summary,
    List<SeriesPoint> series,
    CBitAccuracy cBits) {

  public PolicyReport {
    Objects.requireNonNull(name, "name");
    quirks = List.copyOf(Objects.requireNonNull(quirks, "quirks"));
    Objects.requireNonNull(summary, "summary");
    series = List.copyOf(Objects.requireNonNull(series, "series"));
    Objects.requireNonNull(cBits, "cBits");
    if (cBits.spuriousC() != summary.spuriousC() || cBits.missedC() != summary.missedC()) {
      throw new IllegalArgumentException(
          "cBits: spurious/missed C "
              + cBits.spuriousC()
              + "/"
              + cBits.missedC()
              + " differ from the summary's "
              + summary.spuriousC()
              + "/"
              + summary.missedC());
    }
  }

  /** The name with its quirks, as the CLI prints it: {@code fixed[q2,q3]}. */
  public String label() {
    return name + "[" + String.join(",", quirks) + "]";
  }

  /** Faults by kind, from the summary. */
  public FaultCounts faults() {
    return summary.faults();
  }
}
