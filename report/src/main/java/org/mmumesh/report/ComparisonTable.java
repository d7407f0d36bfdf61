package org.mmumesh.report;

import java.util.List;

/**
 * The comparison table, the same numbers {@code mmumesh run} prints, as an HTML {@code <table>}:
 * one row per policy, columns grouped into the run, exits and faults, C bits and KSM.
 */
public final class ComparisonTable {
  private ComparisonTable() {}

  /** The column headers after the policy column, in order. */
  public static final List<String> COLUMNS =
      List.of(
          "accesses",
          "failed",
          "sim ms",
          "NOHPTE",
          "PROTFAULT",
          "reflected",
          "COW (KSM)",
          "zero maps",
          "spurious C",
          "missed C",
          "sharing (mean)",
          "saved (mean)",
          "saved %",
          "saved (end)");

  /** The table as HTML. */
  public static String render(List<PolicyReport> policies) {
    StringBuilder b = new StringBuilder(4096);
    b.append(
            "<div class=\"table-wrap\"><table class=\"comparison\">\n<thead>\n<tr class=\"groups\">")
        .append("<th></th><th colspan=\"3\">run</th><th colspan=\"5\">exits and faults</th>")
        .append("<th colspan=\"2\">C bits</th><th colspan=\"4\">KSM (guest pages)</th></tr>\n")
        .append("<tr><th scope=\"col\" class=\"policy\">policy</th>");
    for (String c : COLUMNS) {
      b.append("<th scope=\"col\">").append(Html.escape(c)).append("</th>");
    }
    b.append("</tr>\n</thead>\n<tbody>\n");
    if (policies.isEmpty()) {
      b.append("<tr><td colspan=\"")
          .append(COLUMNS.size() + 1)
          .append("\" class=\"empty\">no runs</td></tr>\n");
    }
    for (int i = 0; i < policies.size(); i++) {
      PolicyReport p = policies.get(i);
      Summary s = p.summary();
      b.append("<tr><th scope=\"row\" class=\"policy\"><span class=\"swatch\" style=\"background:")
          .append(Palette.policy(i))
          .append("\"></span>")
          .append(Html.escape(p.name()))
          .append("<span class=\"quirks\">")
          .append(p.quirks().isEmpty() ? "no quirks" : Html.escape(String.join(",", p.quirks())))
          .append("</span></th>");
      cell(b, Fmt.grouped(s.accesses()));
      cell(b, Fmt.grouped(s.failed()));
      cell(b, Fmt.fixed(s.simMs(), 1));
      cell(b, Fmt.grouped(s.nohpte()));
      cell(b, Fmt.grouped(s.protfault()));
      cell(b, Fmt.grouped(s.reflected()));
      cell(b, Fmt.grouped(s.cowKsm()));
      cell(b, Fmt.grouped(s.zeroMaps()));
      cell(b, Fmt.grouped(s.spuriousC()));
      cell(b, Fmt.grouped(s.missedC()));
      cell(b, Fmt.grouped(s.pagesSharingMean()));
      cell(b, Fmt.grouped(s.savedMean()));
      if (s.hasSavedPercent()) {
        double pct = Math.max(0, Math.min(100, s.savedPercent()));
        b.append("<td class=\"pct\"><span class=\"meter\"><span style=\"width:")
            .append(Svg.n(pct))
            .append("%;background:")
            .append(Palette.policy(i))
            .append("\"></span></span>")
            .append(Html.escape(s.savedPercentText()))
            .append("</td>");
      } else {
        b.append("<td class=\"pct na\">n/a</td>"); // explained under the table
      }
      cell(b, Fmt.grouped(s.savedAtEnd()));
      b.append("</tr>\n");
    }
    b.append("</tbody>\n</table></div>\n");
    return b.toString();
  }

  private static void cell(StringBuilder b, String v) {
    b.append("<td>").append(Html.escape(v)).append("</td>");
  }
}
