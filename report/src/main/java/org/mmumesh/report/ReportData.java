package org.mmumesh.report;

import java.util.List;
import java.util.Objects;

/**
 * Everything one report shows: a run of one workload under several policies. The model is neutral:
 * plain strings and numbers, no simulator types, so any front end (the CLI, the gateway's demo) can
 * fill it.
 *
 * @param title the page's heading
 * @param workload the workload's canonical description, shown under the title
 * @param setup one line on how the run was configured (engine, host, KSM parameters); may be empty
 * @param policies one entry per policy, in the order they ran (the order of the table, the legend
 *     and the colours)
 */
public record ReportData(String title, String workload, String setup, List<PolicyReport> policies) {

  public ReportData {
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(workload, "workload");
    Objects.requireNonNull(setup, "setup");
    policies = List.copyOf(Objects.requireNonNull(policies, "policies"));
  }
}
