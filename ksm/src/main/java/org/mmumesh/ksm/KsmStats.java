package org.mmumesh.ksm;

/**
 * A snapshot of the KSM counters (spec 7.5) as {@code /sys/kernel/mm/ksm/} shows them, plus {@code
 * cow_ksm} from the page frames and the number of stable nodes in the tree.
 *
 * @param pagesShared stable nodes with at least one rmap_item
 * @param pagesSharing additional rmap_items on those nodes
 * @param pagesUnshared rmap_items flagged unstable
 * @param pagesVolatile rmap_items - shared - sharing - unshared, 0 when negative
 * @param fullScans completed full passes (the scan sequence number)
 * @param rmapItems rmap_items that exist
 * @param cowKsm copy-on-write breaks of KSM pages so far
 * @param stableNodes nodes in the stable tree
 */
public record KsmStats(
    long pagesShared,
    long pagesSharing,
    long pagesUnshared,
    long pagesVolatile,
    long fullScans,
    long rmapItems,
    long cowKsm,
    long stableNodes) {}
