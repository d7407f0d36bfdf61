package org.mmumesh.report;

import java.util.List;

/**
 * How faithfully the guest HPTEs' changed (C) bits tracked stores (spec 1 item 3): a store should
 * set C, nothing else should.
 *
 * @param stores stores issued
 * @param cSetByStores stores that completed with C set (the correct outcome)
 * @param spuriousC C bits set by an access that was not a store (legacy sets C on any access the
 *     HPTE allows writing)
 * @param missedC stores that completed with the guest C bit clear (quirk Q4)
 */
public record CBitAccuracy(long stores, long cSetByStores, long spuriousC, long missedC) {
  /** The categories' labels, in the order of {@link #values()}. */
  public static final List<String> KINDS = List.of("correct C", "spurious C", "missed C");

  public CBitAccuracy {
    Checks.nonNegative("stores", stores);
    Checks.nonNegative("cSetByStores", cSetByStores);
    Checks.nonNegative("spuriousC", spuriousC);
    Checks.nonNegative("missedC", missedC);
  }

  /** The counts chart 3 shows, in the order of {@link #KINDS}. */
  public List<Long> values() {
    return List.of(cSetByStores, spuriousC, missedC);
  }
}
