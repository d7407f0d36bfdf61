package org.mmumesh.ksm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.mmumesh.common.DirtySet;

/**
 * The incremental form of {@link KsmScanner#counterViolations()} ({@code --check-invariants}): the
 * same recount of spec 7.5's counters from the rmap_items and the stable tree, kept up to date by
 * re-evaluating only the items and nodes that changed since the last check instead of every page at
 * every check.
 *
 * <h2>How</h2>
 *
 * <p>The recount is a sum of per-element contributions: an item contributes to {@code rmap_items}
 * if it exists, to {@code pages_unshared} if it is flagged unstable, and one item to its node if it
 * is flagged stable; a node in the tree with {@code k > 0} such items contributes 1 to {@code
 * pages_shared} and {@code k - 1} to {@code pages_sharing}. The audit keeps every element's last
 * contribution and the sums. {@link RmapItems#setFlags}/{@link RmapItems#setNode} and {@link
 * StableTree#insert}/{@link StableTree#erase} mark the element they change in a {@link DirtySet}
 * (only while an audit is attached: one null check otherwise); a check re-evaluates the marked
 * items (marking the nodes they left and joined), then the marked nodes, and compares the sums with
 * the scanner's counters.
 *
 * <h2>What each check covers</h2>
 *
 * <ul>
 *   <li>The four counters ({@code rmap_items}, {@code pages_unshared}, {@code pages_shared}, {@code
 *       pages_sharing}) against the recount: at every check, whatever changed them (a counter
 *       corrupted directly is found at once).
 *   <li>Each node's item count ({@code stable.items[n]}) against the items pointing at it: for the
 *       nodes marked since the last check (every merge, unmerge, prune or change of one of its
 *       items marks the node), and again at every check for a node found wrong (a violation is
 *       reported until it is repaired).
 *   <li>Item flags or nodes, or node counts, changed without going through those methods (a raw
 *       array write: memory corruption, or a test injecting it) are not seen by the incremental
 *       check; the full {@link KsmScanner#counterViolations()} at the end of a run finds them.
 * </ul>
 *
 * <p>Cost: O(items and nodes changed) per check, plus one pass over every item when attached.
 */
final class KsmAudit {
  private final RmapItems items;
  private final StableTree stable;
  private final DirtySet dirtyItems = new DirtySet();
  private final DirtySet dirtyNodes = new DirtySet();

  // Per item: the node it was counted for (0 none) and its counted flags (EXISTS, UNSTABLE).
  private int[] itemNode = new int[0];
  private byte[] itemFlags = new byte[0];
  // Per node: items counted for it (whatever its tree state), and its counted shared/sharing.
  private int[] nodeItems = new int[0];
  private int[] nodeShared = new int[0];
  private int[] nodeSharing = new int[0];

  private long exist;
  private long unstable;
  private long shared;
  private long sharing;

  /** Attaches to {@code items} and {@code stable}, marking every existing item and node. */
  KsmAudit(RmapItems items, StableTree stable, long itemIds) {
    this.items = items;
    this.stable = stable;
    for (int id = 0; id < itemIds; id++) {
      if (items.flags(id) != 0) {
        dirtyItems.add(id);
      }
    }
    for (int n = 1; n < stable.inTree.length; n++) {
      if (stable.inTree[n]) {
        dirtyNodes.add(n);
      }
    }
    items.dirty = dirtyItems;
    stable.dirty = dirtyNodes;
  }

  /**
   * Re-evaluates what changed since the last check and compares the recount with the counters given
   * (the scanner's): the violations, in {@link KsmScanner#counterViolations()}'s words.
   */
  List<String> check(long rmapItems, long pagesUnshared, long pagesShared, long pagesSharing) {
    if (dirtyItems.size() == 0
        && dirtyNodes.size() == 0
        && exist == rmapItems
        && unstable == pagesUnshared
        && shared == pagesShared
        && sharing == pagesSharing) {
      return List.of(); // nothing changed, and the counters agree
    }
    for (int i = 0, n = dirtyItems.size(); i < n; i++) {
      reevaluateItem(dirtyItems.get(i));
    }
    dirtyItems.clear();
    List<String> out = new ArrayList<>();
    int[] nodes = dirtyNodes.drain();
    for (int n : nodes) {
      String bad = reevaluateNode(n);
      if (bad != null) {
        out.add(bad);
        dirtyNodes.add(n); // still wrong: checked again next time
      }
    }
    if (exist != rmapItems
        || unstable != pagesUnshared
        || shared != pagesShared
        || sharing != pagesSharing) {
      out.add(
          String.format(
              "counters kept/recount: rmap_items %d/%d unshared %d/%d shared %d/%d sharing %d/%d",
              rmapItems,
              exist,
              pagesUnshared,
              unstable,
              pagesShared,
              shared,
              pagesSharing,
              sharing));
    }
    return out;
  }

  private void reevaluateItem(int id) {
    if (id >= itemNode.length) {
      int cap = Math.max(id + 1, itemNode.length * 2);
      itemNode = Arrays.copyOf(itemNode, cap);
      itemFlags = Arrays.copyOf(itemFlags, cap);
    }
    byte f = items.flags(id);
    byte counted = (byte) ((f != 0 ? RmapItems.EXISTS : 0) | (f & RmapItems.UNSTABLE));
    int node = (f & RmapItems.STABLE) != 0 ? items.node(id) : 0;
    byte was = itemFlags[id];
    exist += (counted & RmapItems.EXISTS) - (was & RmapItems.EXISTS);
    unstable += ((counted & RmapItems.UNSTABLE) - (was & RmapItems.UNSTABLE)) / RmapItems.UNSTABLE;
    itemFlags[id] = counted;
    int old = itemNode[id];
    if (old != node) {
      if (old != 0) {
        nodeItems[old]--;
        dirtyNodes.add(old);
      }
      if (node != 0) {
        ensureNode(node);
        nodeItems[node]++;
        dirtyNodes.add(node);
      }
      itemNode[id] = node;
    } else if (node != 0) {
      dirtyNodes.add(node); // a node is re-checked whenever one of its items is touched
    }
  }

  private void ensureNode(int n) {
    if (n >= nodeItems.length) {
      int cap = Math.max(n + 1, nodeItems.length * 2);
      nodeItems = Arrays.copyOf(nodeItems, cap);
      nodeShared = Arrays.copyOf(nodeShared, cap);
      nodeSharing = Arrays.copyOf(nodeSharing, cap);
    }
  }

  /** Updates node {@code n}'s contribution; a violation's text, or null. */
  private String reevaluateNode(int n) {
    ensureNode(n);
    boolean live = n < stable.inTree.length && stable.inTree[n];
    int k = nodeItems[n];
    int s = live && k > 0 ? 1 : 0;
    int sh = live && k > 0 ? k - 1 : 0;
    shared += s - nodeShared[n];
    sharing += sh - nodeSharing[n];
    nodeShared[n] = s;
    nodeSharing[n] = sh;
    if (live && k != stable.items[n]) {
      return "node " + n + " counts " + stable.items[n] + " items but " + k;
    }
    return null;
  }
}
