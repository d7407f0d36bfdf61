package org.mmumesh.ksm;

import org.mmumesh.pageframe.PageFrames;

/**
 * The stable tree's functions of {@code mm/ksm.c} (spec 7.2, 7.4 and 7.5) over the {@link
 * StableTree} data structure, the page frames it points into and the {@link KsmCounters} they keep:
 * {@code stable_tree_search}, {@code stable_tree_insert}, {@code stable_tree_append}, the stable
 * half of {@code remove_rmap_item_from_tree}, {@code remove_node_from_stable_tree} and the
 * "keyhole" {@code get_ksm_page} check that finds a node stale when its KSM frame was freed (or
 * freed and reused: the frame generation differs from the node's). Owned by one {@link KsmScanner}.
 */
final class StableNodes {
  private final StableTree stable;
  private final RmapItems items;
  private final KsmCounters counters;
  private final PageFrames pf;

  StableNodes(StableTree stable, RmapItems items, KsmCounters counters, PageFrames pf) {
    this.stable = stable;
    this.items = items;
    this.counters = counters;
    this.pf = pf;
  }

  /**
   * The node holding KSM page {@code pfn} of content {@code content} ({@code page_stable_node}).
   */
  int nodeOfKsmPage(int pfn, long content) {
    int n = stable.find(content);
    return n != 0 && stable.kpfn[n] == pfn && !isStale(n) ? n : 0;
  }

  /** The KSM frame of node {@code n}. */
  int kpfn(int n) {
    return stable.kpfn[n];
  }

  /** Whether item {@code id} is on a node that is in the tree. */
  boolean holds(int id) {
    return (items.flags(id) & RmapItems.STABLE) != 0 && stable.inTree[items.node(id)];
  }

  /** {@code stable_tree_search}: the live node holding this content, pruning a stale one. */
  int search(long content) {
    int n = stable.find(content);
    if (n != 0 && isStale(n)) {
      prune(n);
      return 0;
    }
    return n;
  }

  /** {@code stable_tree_insert}: 0 if a live node with equal content exists already. */
  int insert(int kpfn, long content) {
    int n = stable.find(content);
    if (n != 0) {
      if (!isStale(n)) {
        return 0;
      }
      prune(n);
    }
    return stable.insert(content, kpfn, pf.frameGeneration(kpfn));
  }

  /** {@code get_ksm_page} failing: the KSM frame was freed (or freed and reused). */
  private boolean isStale(int n) {
    int kpfn = stable.kpfn[n];
    return !pf.isKsmPage(kpfn) || pf.frameGeneration(kpfn) != stable.kgen[n];
  }

  /** {@code remove_node_from_stable_tree}: every item leaves the node, counters follow 7.5. */
  private void prune(int n) {
    int k = stable.items[n];
    if (k > 0) {
      counters.pagesShared--;
      counters.pagesSharing -= k - 1;
      stable.items[n] = 0;
    }
    stable.erase(n);
  }

  /** {@code stable_tree_append}: first item counts as shared, the others as sharing. */
  void append(int id, int n) {
    if (stable.items[n]++ == 0) {
      counters.pagesShared++;
    } else {
      counters.pagesSharing++;
    }
    stable.refs[n]++;
    items.setNode(id, n);
    items.setFlags(id, (byte) ((items.flags(id) & ~RmapItems.UNSTABLE) | RmapItems.STABLE));
  }

  /**
   * The stable half of {@code remove_rmap_item_from_tree} for an item flagged STABLE: it leaves its
   * node (pruned first if stale), with the counter rules of spec 7.5; the flag is the caller's.
   */
  void removeItem(int id) {
    int n = items.node(id);
    if (stable.inTree[n] && isStale(n)) {
      prune(n);
    }
    if (stable.inTree[n]) {
      if (--stable.items[n] > 0) {
        counters.pagesSharing--;
      } else {
        counters.pagesShared--;
      }
    }
    stable.releaseRef(n);
    items.setNode(id, 0);
  }

  /** {@code remove_all_stable_nodes}: prunes the nodes whose pages are gone. */
  void pruneStale() {
    stable.forEachLive(
        n -> {
          if (isStale(n)) {
            prune(n);
          }
        });
  }

  /** Nodes in the tree, including nodes whose items have all left. */
  long liveNodes() {
    return stable.liveNodes();
  }
}
