package org.mmumesh.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no scripts, no external
 * resources) comparing one workload's run under several policies: a title and an explanation of the
 * kernel change, one card per policy, the comparison table, and three charts:
 *
 * <ol>
 *   <li>{@link LineChart}: KSM pages_sharing and the frames really saved over simulated time;
 *   <li>{@link BarChart} {@value #FAULTS_ID}: faults by kind (NOHPTE, PROTFAULT, reflected, COW
 *       breaks of KSM pages);
 *   <li>{@link BarChart} {@value #CBITS_ID}: C-bit accuracy (correct, spurious, missed C).
 * </ol>
 *
 * <p>The page's column is {@link #CONTENT_WIDTH} px wide, so chart 1 and the pair of charts 2 and 3
 * side by side are shown at their natural size in any window wider than {@link #PAGE_WIDTH} px;
 * narrower windows scale the charts down. The output is deterministic: the same data gives the same
 * bytes (no timestamps).
 */
public final class HtmlReport {
  private HtmlReport() {}

  /** The SVG id of chart 2. */
  public static final String FAULTS_ID = "chart-faults";

  /** The SVG id of chart 3. */
  public static final String CBITS_ID = "chart-cbits";

  /** Width of the page's content column: chart 1's width, or charts 2 and 3 and the gap. */
  public static final int CONTENT_WIDTH = LineChart.WIDTH;

  /** Horizontal padding inside each section. */
  public static final int SECTION_PADDING = 24;

  /** The page's width: the column plus its sections' padding and 1 px borders. */
  public static final int PAGE_WIDTH = CONTENT_WIDTH + 2 * SECTION_PADDING + 2;

  /** The paragraph explaining the change and the three policies. */
  static final String INTRO =
      "The Linux change “KVM: PPC: Book3S PR: Better handling of host-side read-only pages”"
          + " (Paul Mackerras, Linux 3.13, commit 93b159b) changed how PR KVM maps guest memory"
          + " into its shadow (host) hashed page table. Before it, every guest page fault asked"
          + " the host for a <em>writable</em> page, so even a guest <em>load</em> from a page"
          + " that KSM had merged forced a copy-on-write break and unshared it again; and the"
          + " guest HPTE’s changed (C) bit was set by any access the page allowed writing. After"
          + " it, a load asks for read access only and gets a read-only shadow PTE; a store that"
          + " then hits the read-only host page takes a protection fault (PROTFAULT) that KVM"
          + " now handles itself, and only then is the page made writable; C is set only by"
          + " stores. <strong>legacy</strong> models the kernel before the change,"
          + " <strong>fixed</strong> the kernel at the change with the quirks it had,"
          + " <strong>strict</strong> the architecture’s intent without quirks (a page stays"
          + " read-only in the host until its guest C bit is set).";

  /** The table's footnote (the CLI's explanation of its columns). */
  static final String TABLE_NOTE =
      "sharing (mean): KSM’s pages_sharing averaged over the samples; saved (mean): guest pages"
          + " backed by a KSM frame minus those frames, i.e. memory really saved, averaged over the"
          + " same samples; saved %: saved (mean) relative to what KSM had merged before the guests"
          + " ran; saved (end): memory really saved when the run ended. KSM’s counters lag behind"
          + " COW breaks, so a policy can keep a high pages_sharing while the memory really saved"
          + " collapses.";

  /** The page as a string. */
  public static String render(ReportData data) {
    List<PolicyReport> ps = data.policies();
    List<String> names = new ArrayList<>();
    List<List<Long>> faults = new ArrayList<>();
    List<List<Long>> cbits = new ArrayList<>();
    for (PolicyReport p : ps) {
      names.add(p.name());
      faults.add(p.faults().values());
      cbits.add(p.cBits().values());
    }
    StringBuilder b = new StringBuilder(64 * 1024);
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(Html.escape(data.title()))
        .append("</title>\n<style>\n")
        .append(css())
        .append("</style>\n</head>\n<body>\n<main>\n");

    b.append("<header class=\"section\">\n<h1>")
        .append(Html.escape(data.title()))
        .append("</h1>\n<p class=\"workload\"><span class=\"k\">workload</span> <code>")
        .append(Html.escape(data.workload()).replace(",", ",<wbr>"))
        .append("</code></p>\n");
    if (!data.setup().isEmpty()) {
      b.append("<p class=\"setup\">").append(Html.escape(data.setup())).append("</p>\n");
    }
    b.append("<p class=\"intro\">").append(INTRO).append("</p>\n");
    b.append(cards(ps)).append("</header>\n");

    b.append("<section class=\"section\">\n<h2>Comparison</h2>\n")
        .append(ComparisonTable.render(ps))
        .append("<p class=\"note\">")
        .append(Html.escape(TABLE_NOTE))
        .append("</p>\n");
    if (ps.stream().anyMatch(p -> !p.summary().hasSavedPercent())) {
      b.append("<p class=\"note na-note\">")
          .append(Html.escape(Summary.NOT_APPLICABLE_NOTE))
          .append("</p>\n");
    }
    b.append("</section>\n");

    b.append("<section class=\"section\">\n<h2>KSM sharing over simulated time</h2>\n<figure>\n")
        .append(LineChart.render(ps))
        .append("<figcaption>Solid: KSM’s pages_sharing, what the kernel reports as saved. Dashed:")
        .append(" frames really saved at that instant. Where a policy’s dashed line falls below")
        .append(" its solid one, guest accesses are breaking sharing faster than the counters")
        .append(" show.</figcaption>\n</figure>\n</section>\n");

    b.append("<section class=\"section\">\n<h2>Faults and C bits</h2>\n<div class=\"pair\">\n")
        .append("<figure>\n")
        .append(
            BarChart.render(
                FAULTS_ID,
                "Faults by kind",
                "Grouped bar chart of fault counts by kind, one bar per policy.",
                FaultCounts.KINDS,
                names,
                faults,
                "count"))
        .append("<figcaption>Exits without a host HPTE (NOHPTE), exits on a read-only host HPTE")
        .append(" (PROTFAULT), faults reflected to the guest, and copy-on-write breaks of KSM")
        .append(" pages.</figcaption>\n</figure>\n<figure>\n")
        .append(
            BarChart.render(
                CBITS_ID,
                "C-bit accuracy",
                "Grouped bar chart of guest C-bit outcomes, one bar per policy.",
                CBitAccuracy.KINDS,
                names,
                cbits,
                "count"))
        .append("<figcaption>Correct: stores that completed with C set. Spurious: C set by an")
        .append(" access that was not a store. Missed: stores that completed with C clear.")
        .append("</figcaption>\n</figure>\n</div>\n</section>\n");

    b.append("<footer>Generated by mmumesh. This file is self-contained: no scripts, no")
        .append(" external resources.</footer>\n</main>\n</body>\n</html>\n");
    return b.toString();
  }

  /** Writes the page to {@code file} in UTF-8, creating its directory if needed. */
  public static void write(ReportData data, Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Files.writeString(file, render(data), StandardCharsets.UTF_8);
  }

  private static String cards(List<PolicyReport> ps) {
    StringBuilder b = new StringBuilder("<div class=\"cards\">\n");
    for (int i = 0; i < ps.size(); i++) {
      PolicyReport p = ps.get(i);
      Summary s = p.summary();
      b.append("<div class=\"card\" style=\"border-top-color:")
          .append(Palette.policy(i))
          .append("\">\n<div class=\"card-name\">")
          .append(Html.escape(p.name()))
          .append("<span class=\"quirks\">")
          .append(p.quirks().isEmpty() ? "no quirks" : Html.escape(String.join(", ", p.quirks())))
          .append("</span></div>\n<div class=\"big\">")
          .append(Html.escape(s.savedPercentText()))
          .append("</div>\n<div class=\"big-label\">")
          .append(
              s.hasSavedPercent()
                  ? "of the merged memory really saved, on average"
                  : "nothing was merged before the guests ran")
          .append("</div>\n<dl>")
          .append("<dt>COW breaks (KSM)</dt><dd>")
          .append(Fmt.grouped(s.cowKsm()))
          .append("</dd><dt>spurious / missed C</dt><dd>")
          .append(Fmt.grouped(s.spuriousC()))
          .append(" / ")
          .append(Fmt.grouped(s.missedC()))
          .append("</dd><dt>simulated time</dt><dd>")
          .append(Fmt.fixed(s.simMs(), 1))
          .append(" ms</dd></dl>\n</div>\n");
    }
    return b.append("</div>\n").toString();
  }

  private static String css() {
    return """
        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #eef1f5; color: %1$s;
          font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
            "Liberation Sans", "DejaVu Sans", Arial, sans-serif; }
        main { width: %2$dpx; max-width: 100%%; margin: 24px auto 40px; }
        .section { background: #fff; border: 1px solid #dde3ea; border-radius: 10px;
          padding: 20px %3$dpx 24px; margin: 0 0 20px; box-shadow: 0 1px 2px rgba(16,24,40,.05); }
        h1 { font-size: 26px; line-height: 1.25; margin: 0 0 8px; letter-spacing: -0.01em; }
        h2 { font-size: 18px; margin: 0 0 14px; }
        p { margin: 0 0 12px; }
        .workload, .setup { color: %4$s; font-size: 13px; margin: 0 0 4px; }
        .workload .k { text-transform: uppercase; letter-spacing: .06em; font-size: 11px;
          font-weight: 600; margin-right: 4px; }
        code { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace;
          background: #f3f5f8; padding: 1px 5px; border-radius: 4px; overflow-wrap: anywhere; }
        .intro { margin-top: 14px; max-width: 75em; }
        .cards { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 18px; }
        .card { flex: 1 1 220px; border: 1px solid #dde3ea; border-top: 5px solid; border-radius: 8px;
          padding: 12px 16px; background: #fbfcfd; }
        .card-name { font-weight: 700; font-size: 16px; }
        .quirks { display: block; font-weight: 400; font-size: 12px; color: %4$s; }
        .big { font-size: 34px; font-weight: 700; line-height: 1.1; margin-top: 8px;
          font-variant-numeric: tabular-nums; }
        .big-label { font-size: 12.5px; color: %4$s; margin-bottom: 8px; }
        dl { display: grid; grid-template-columns: 1fr auto; gap: 2px 12px; margin: 0;
          font-size: 13px; }
        dt { color: %4$s; } dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
        .table-wrap { overflow-x: auto; }
        table.comparison { border-collapse: collapse; width: 100%%; font-size: 12.5px;
          font-variant-numeric: tabular-nums; }
        .comparison th, .comparison td { padding: 6px 5px; text-align: right;
          border-bottom: 1px solid #e6eaef; white-space: nowrap; }
        .comparison thead th { font-size: 12px; font-weight: 600; color: %4$s; vertical-align: bottom;
          white-space: normal; }
        .comparison tr.groups th { text-align: center; text-transform: uppercase; font-size: 10.5px;
          letter-spacing: .06em; border-bottom: 2px solid #d3dae2; }
        .comparison th.policy { text-align: left; color: %1$s; font-size: 13.5px; white-space: normal;
          min-width: 96px; }
        .comparison th.policy .quirks { font-size: 11.5px; }
        .comparison thead th.policy { color: %4$s; font-size: 12px; }
        .comparison tbody tr:nth-child(even) { background: #f8fafc; }
        .comparison td.empty { text-align: center; color: %4$s; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; }
        .meter { display: inline-block; width: 30px; height: 7px; background: #e6eaef;
          border-radius: 4px; margin-right: 6px; vertical-align: middle; overflow: hidden; }
        .meter span { display: block; height: 100%%; }
        .note, figcaption { color: %4$s; font-size: 13px; }
        .note { margin: 12px 0 0; }
        figure { margin: 0; }
        figcaption { margin-top: 6px; }
        .pair { display: flex; flex-wrap: wrap; gap: %5$dpx; }
        .pair figure { flex: 0 1 %6$dpx; }
        svg.chart { display: block; max-width: 100%%; height: auto; font-family: inherit; }
        svg .tick { font-size: 12px; fill: %4$s; font-variant-numeric: tabular-nums; }
        svg .axis-title { font-size: 13px; fill: %1$s; }
        svg .legend-label { font-size: 13px; fill: %1$s; }
        svg .group-label { font-size: 13px; font-weight: 600; fill: %1$s; }
        svg .value { font-size: 10px; fill: %1$s; font-variant-numeric: tabular-nums; }
        svg .empty-note { font-size: 14px; fill: %4$s; }
        footer { color: %4$s; font-size: 12px; text-align: center; }
        @media print { body { background: #fff; } .section { box-shadow: none; break-inside: avoid; } }
        """
        .formatted(
            Palette.INK,
            PAGE_WIDTH,
            SECTION_PADDING,
            Palette.MUTED,
            CONTENT_WIDTH - 2 * BarChart.WIDTH,
            BarChart.WIDTH);
  }
}
