package org.mmumesh.ksm;

import java.util.ArrayList;
import java.util.List;

/**
 * ksmd's counters (spec 7.5, {@code /sys/kernel/mm/ksm}) as the {@link KsmScanner} keeps them, with
 * their recount from the rmap items and the stable tree. The scanner updates the fields at the
 * kernel's points ({@code stable_tree_append}, {@code remove_rmap_item_from_tree}, ...); {@code
 * pages_volatile} and {@code full_scans} are derived ({@link KsmScanner#pagesVolatile()}, {@link
 * KsmScanner#fullScans()}).
 */
public final class KsmCounters {
  /** {@code pages_shared}: stable nodes with at least one item. */
  long pagesShared;

  /** {@code pages_sharing}: the further items of those nodes. */
  long pagesSharing;

  /** {@code pages_unshared}: items in the unstable tree. */
  long pagesUnshared;

  /** {@code rmap_items}: items that exist. */
  long rmapItems;

  /** Pages visited by all batches so far (the simulated cost). */
  long pagesVisited;

  /**
   * Recounts the counters from {@code items} and {@code stable} over {@code regions} and lists
   * disagreements (empty when consistent): shared = live nodes with items, sharing = their extra
   * items, unshared = items flagged unstable, rmap_items = items that exist; every live node's item
   * count equals the items pointing at it.
   */
  public List<String> violations(
      RmapItems items, StableTree stable, List<MergeableRegion> regions) {
    List<String> out = new ArrayList<>();
    long exist = 0;
    long unstableFlagged = 0;
    int[] perNode = new int[stable.items.length];
    for (MergeableRegion r : regions) {
      for (int id = r.idBase; id < r.idEnd(); id++) {
        byte f = items.flags(id);
        if (f == 0) {
          continue;
        }
        exist++;
        if ((f & RmapItems.UNSTABLE) != 0) {
          unstableFlagged++;
        }
        if ((f & RmapItems.STABLE) != 0 && stable.inTree[items.node(id)]) {
          perNode[items.node(id)]++;
        }
      }
    }
    long[] sharedSharing = new long[2];
    stable.forEachLive(
        n -> {
          if (perNode[n] != stable.items[n]) {
            out.add("node " + n + " counts " + stable.items[n] + " items but " + perNode[n]);
          }
          if (perNode[n] > 0) {
            sharedSharing[0]++;
            sharedSharing[1] += perNode[n] - 1;
          }
        });
    if (exist != rmapItems
        || unstableFlagged != pagesUnshared
        || sharedSharing[0] != pagesShared
        || sharedSharing[1] != pagesSharing) {
      out.add(
          String.format(
              "counters kept/recount: rmap_items %d/%d unshared %d/%d shared %d/%d sharing %d/%d",
              rmapItems,
              exist,
              pagesUnshared,
              unstableFlagged,
              pagesShared,
              sharedSharing[0],
              pagesSharing,
              sharedSharing[1]));
    }
    return out;
  }
}
