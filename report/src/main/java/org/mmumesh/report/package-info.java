/**
 * The comparison table and the self-contained HTML report with SVG charts ({@link
 * org.mmumesh.report.HtmlReport}): KSM sharing over simulated time per policy (spec 7.5 and 10),
 * faults by kind and C-bit accuracy (spec 1.3 Q4). It reads plain values ({@link
 * org.mmumesh.report.ReportData}) and depends on no other module. Design: docs/design.md.
 */
package org.mmumesh.report;
