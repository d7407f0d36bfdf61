package org.mmumesh.ksm;

import org.mmumesh.pageframe.PageFrames;

/**
 * The unstable tree's functions of {@code mm/ksm.c} (spec 7.2 and 7.4) over the {@link
 * UnstableTree} data structure, the rmap_items, the mm list that maps an item back to its page, and
 * the page frames: {@code unstable_tree_search_insert}, its {@code rb_erase}, and the reset at the
 * start of every pass. New items cannot be inserted during the pass that created them (their
 * checksum is 0); items in the stable tree are not, unless they leave it. Owned by one {@link
 * KsmScanner}.
 */
final class UnstableNodes {
  private final RmapItems items;
  private final MmList mm;
  private final KsmCounters counters;
  private final PageFrames pf;
  private final UnstableTree tree = new UnstableTree(new Pages());

  // The page behind the item the last search found (set by pageOf).
  private int foundVm;
  private long foundHva;
  private int foundPfn;

  UnstableNodes(RmapItems items, MmList mm, KsmCounters counters, PageFrames pf) {
    this.items = items;
    this.mm = mm;
    this.counters = counters;
    this.pf = pf;
  }

  /** Empties the tree at the start of a pass, sized for the items not in the stable tree. */
  /** The unstable tree (for the checkpoint). */
  UnstableTree tree() {
    return tree;
  }

  void reset() {
    tree.reset(Math.max(0, counters.rmapItems - counters.pagesShared - counters.pagesSharing));
  }

  /** Drops the tree at the end of a pass (or on {@code run=2}). */
  void drop() {
    tree.drop();
  }

  /** Slots of the tree's table (for tests). */
  int capacity() {
    return tree.capacity();
  }

  /**
   * {@code unstable_tree_search_insert}: an item of this pass whose page currently has equal
   * content (its page then in {@link #foundVm()}, {@link #foundHva()}, {@link #foundPfn()}), or -1
   * after inserting this item (flags UNSTABLE|seqnr, pages_unshared++). Finding this very frame (a
   * forked page) returns -1 without inserting, as the kernel does.
   */
  int searchInsert(int id, int pfn, long content) {
    int t = tree.searchInsert(id, pfn, content);
    if (t >= 0) {
      foundPfn = tree.foundPfn();
      return t;
    }
    if (t == UnstableTree.SAME_FRAME) {
      return -1;
    }
    items.setFlags(id, (byte) (items.flags(id) | RmapItems.UNSTABLE));
    items.setSeq(id, (byte) mm.seqnr());
    counters.pagesUnshared++;
    return -1;
  }

  int foundVm() {
    return foundVm;
  }

  long foundHva() {
    return foundHva;
  }

  int foundPfn() {
    return foundPfn;
  }

  /** rb_erase of an item inserted this pass: found by its page's current content, if unchanged. */
  void erase(int id) {
    MergeableRegion r = mm.regionOfId(id);
    if (r == null) {
      return;
    }
    int pfn = pf.ptePfn(r.vm, r.hvaOf(id));
    if (pfn <= 0) {
      return; // page gone: the stale entry is ignored by live() once the flag is cleared
    }
    tree.erase(id, pf.frameFingerprint(pfn));
  }

  /** The tree's view of the items and frames. */
  private final class Pages implements UnstableTree.Pages {
    @Override
    public boolean live(int item) {
      return (items.flags(item) & RmapItems.UNSTABLE) != 0 && items.seq(item) == (byte) mm.seqnr();
    }

    /** The pfn of the anonymous page behind a live unstable item (or -1), setting foundVm/Hva. */
    @Override
    public int pageOf(int item) {
      MergeableRegion r = mm.regionOfId(item);
      if (r == null) {
        return -1;
      }
      foundVm = r.vm;
      foundHva = r.hvaOf(item);
      int pfn = pf.ptePfn(foundVm, foundHva);
      return pfn <= 0 ? -1 : pfn; // get_mergeable_page: present and anonymous
    }

    @Override
    public long content(int pfn) {
      return pf.frameFingerprint(pfn);
    }
  }
}
