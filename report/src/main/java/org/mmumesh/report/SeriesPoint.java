package org.mmumesh.report;

/**
 * One KSM sample.
 *
 * @param simMs simulated time in milliseconds
 * @param pagesSharing KSM's pages_sharing counter (what the kernel reports as saved)
 * @param framesSaved frames actually saved by merging at that instant (guest pages backed by a KSM
 *     frame minus those frames); may be negative in principle, and is drawn as such
 */
public record SeriesPoint(double simMs, long pagesSharing, long framesSaved) {
  public SeriesPoint {
    Checks.nonNegative("simMs", simMs);
    Checks.nonNegative("pagesSharing", pagesSharing);
  }
}
