package org.mmumesh.workload;

import org.mmumesh.common.Checks;

/**
 * The parameters of a randomly generated access phase (used by the identical-guests, image and
 * uniform workloads; see {@link Workloads}).
 *
 * <p>Each vCPU makes {@code accessesPerVcpu} accesses. Each access is an instruction fetch with
 * probability {@code ifetchFraction}; otherwise it is a load with probability {@code readFraction}
 * and a store otherwise (so {@code readFraction} is the load share of <em>data</em> accesses). Its
 * page is drawn from the working set, window pages {@code 0 .. workingSetPages - 1}, by {@code
 * locality}.
 *
 * @param readFraction loads among data accesses, 0 to 1
 * @param workingSetPages pages touched, 1 to the guest's memory size
 * @param locality page choice within the working set
 * @param zipfExponent the Zipf exponent {@code s} (used only for {@link Locality#ZIPF}; then
 *     greater than 0 to {@link ZipfSampler#MAX_EXPONENT})
 * @param accessesPerVcpu accesses per vCPU, 0 to {@link #MAX_ACCESSES}
 * @param ifetchFraction instruction fetches among all accesses, 0 to 1
 */
public record ReadMostlyPhase(
    double readFraction,
    long workingSetPages,
    Locality locality,
    double zipfExponent,
    long accessesPerVcpu,
    double ifetchFraction) {

  /** The most accesses one vCPU may be given. */
  public static final long MAX_ACCESSES = 1L << 40;

  /** Validates every field; messages name the field and its allowed range. */
  public ReadMostlyPhase {
    GuestImage.checkFraction("readFraction", readFraction);
    Checks.inRange("workingSetPages", workingSetPages, 1, MmuKind.BOOK3S_64.maxGuestPages());
    if (locality == null) {
      throw new IllegalArgumentException("locality: null is invalid; allowed UNIFORM or ZIPF");
    }
    if (locality == Locality.ZIPF
        && !(zipfExponent > 0.0 && zipfExponent <= ZipfSampler.MAX_EXPONENT)) {
      throw new IllegalArgumentException(
          "zipfExponent: "
              + zipfExponent
              + " is out of range; allowed greater than 0 to "
              + ZipfSampler.MAX_EXPONENT);
    }
    Checks.inRange("accessesPerVcpu", accessesPerVcpu, 0, MAX_ACCESSES);
    GuestImage.checkFraction("ifetchFraction", ifetchFraction);
  }
}
