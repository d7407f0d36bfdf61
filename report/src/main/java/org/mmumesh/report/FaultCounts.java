package org.mmumesh.report;

import java.util.List;

/**
 * Faults by kind, as chart 2 groups them.
 *
 * @param nohpte exits with no host HPTE
 * @param protfault exits on a read-only host HPTE
 * @param reflected faults reflected to the guest
 * @param cowBreaks copy-on-write breaks of KSM pages
 */
public record FaultCounts(long nohpte, long protfault, long reflected, long cowBreaks) {
  /** The kinds' labels, in the order of {@link #values()}. */
  public static final List<String> KINDS =
      List.of("NOHPTE", "PROTFAULT", "reflected", "COW breaks");

  /** The counts, in the order of {@link #KINDS}. */
  public List<Long> values() {
    return List.of(nohpte, protfault, reflected, cowBreaks);
  }
}
