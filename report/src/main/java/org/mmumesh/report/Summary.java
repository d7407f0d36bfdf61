package org.mmumesh.report;

/**
 * One row of the comparison table: a policy's totals over the run (counters summed over the VMs;
 * COW breaks and zero maps are host-wide).
 *
 * @param accesses accesses completed or failed
 * @param failed accesses reported failed
 * @param simMs simulated duration in milliseconds
 * @param nohpte exits with no host HPTE (DSISR_NOHPTE / SRR1 not found)
 * @param protfault data exits on a read-only host HPTE (DSISR_PROTFAULT)
 * @param reflected faults reflected to the guest
 * @param cowKsm copy-on-write breaks of KSM pages
 * @param zeroMaps maps of the shared zero page
 * @param spuriousC C bits set by an access that was not a store
 * @param missedC stores that completed with the guest C bit clear
 * @param pagesSharingMean KSM's pages_sharing averaged over the samples after the first
 * @param savedMean frames really saved by KSM, averaged over the same samples
 * @param savedPercent {@code savedMean} relative to what KSM had merged before the guests ran; NaN
 *     when KSM had merged nothing before they ran (there is nothing to be relative to: shown as
 *     "n/a", see {@link #NOT_APPLICABLE_NOTE})
 * @param savedAtEnd frames really saved by KSM when the run ended
 */
public record Summary(
    long accesses,
    long failed,
    double simMs,
    long nohpte,
    long protfault,
    long reflected,
    long cowKsm,
    long zeroMaps,
    long spuriousC,
    long missedC,
    double pagesSharingMean,
    double savedMean,
    double savedPercent,
    long savedAtEnd) {

  public Summary {
    Checks.nonNegative("accesses", accesses);
    Checks.nonNegative("failed", failed);
    Checks.nonNegative("simMs", simMs);
    Checks.nonNegative("nohpte", nohpte);
    Checks.nonNegative("protfault", protfault);
    Checks.nonNegative("reflected", reflected);
    Checks.nonNegative("cowKsm", cowKsm);
    Checks.nonNegative("zeroMaps", zeroMaps);
    Checks.nonNegative("spuriousC", spuriousC);
    Checks.nonNegative("missedC", missedC);
    Checks.nonNegative("pagesSharingMean", pagesSharingMean);
    Checks.finite("savedMean", savedMean);
    if (Double.isInfinite(savedPercent)) {
      throw new IllegalArgumentException(
          "savedPercent: " + savedPercent + " is out of range; allowed a finite number or NaN");
    }
  }

  /** What "n/a" in the saved % column means. */
  public static final String NOT_APPLICABLE_NOTE =
      "n/a: KSM had merged nothing before the guests ran, so there is no merged memory for"
          + " saved % to be relative to";

  /** Whether {@link #savedPercent} is defined (KSM had merged something before the run). */
  public boolean hasSavedPercent() {
    return !Double.isNaN(savedPercent);
  }

  /**
   * {@link #savedPercent} with one decimal and "%", or "n/a" (see {@link #NOT_APPLICABLE_NOTE}).
   */
  public String savedPercentText() {
    return hasSavedPercent() ? Fmt.fixed(savedPercent, 1) + "%" : "n/a";
  }

  /** The fault counts chart 2 shows. */
  public FaultCounts faults() {
    return new FaultCounts(nohpte, protfault, reflected, cowKsm);
  }
}
