package org.mmumesh.ksm;

import java.util.Arrays;
import org.mmumesh.common.Fingerprint;

/**
 * ksmd's unstable tree (spec 7.2, mm/ksm.c {@code root_unstable_tree}): the rmap items of
 * not-yet-merged pages keyed by their <em>current</em> content, emptied at the start of every full
 * pass. Held as a linear-probing table of item id + 1 ({@code -1}: tombstone) with a parallel byte
 * tag per slot (0 empty, else 8 bits of the content hash) so probes skip other contents without
 * touching items or pages: 5 bytes per slot. Keys are not stored: they are recomputed from the
 * pages when probed ({@link Pages}), so the table "can become wrong as pages change" just like the
 * kernel's tree (an entry whose page changed is simply not found).
 *
 * <p>Sized at the start of each pass for every item that may be inserted during it ({@link
 * #reset}), grown if more are ({@link #searchInsert}), dropped back to its minimum when the pass
 * ends ({@link #drop}). Not thread-safe: owned by one {@link KsmScanner}.
 */
final class UnstableTree {
  /** The pages behind the items: the scanner's view of its rmap items and the frames. */
  interface Pages {
    /** Whether item {@code item} is in the tree in the current pass ({@code UNSTABLE|seqnr}). */
    boolean live(int item);

    /** The pfn of the present anonymous page behind item {@code item}, or -1. */
    int pageOf(int item);

    /** The content fingerprint of frame {@code pfn}. */
    long content(int pfn);
  }

  /** {@link #searchInsert}: the page is this very frame (a forked page); nothing inserted. */
  static final int SAME_FRAME = -1;

  /** {@link #searchInsert}: no equal page; the item was inserted. */
  static final int INSERTED = -2;

  private static final int TOMBSTONE = -1;

  /** The table size between passes and its minimum. */
  private static final int MIN_SLOTS = 1024;

  private final Pages pages;
  private int[] ids = new int[MIN_SLOTS];
  private byte[] tags = new byte[MIN_SLOTS];
  private int used;
  private int foundPfn;

  UnstableTree(Pages pages) {
    this.pages = pages;
  }

  /**
   * Empties the tree at the start of a pass, sized for the {@code candidates} items that may be
   * inserted during it (those not in the stable tree now); items that leave the stable tree during
   * the pass can push it past that, which {@link #searchInsert} handles by growing.
   */
  void reset(long candidates) {
    long want = Math.min(Integer.MAX_VALUE - 8L, Math.max(MIN_SLOTS, candidates * 5 / 4 + 16));
    if (ids.length < want) {
      ids = new int[(int) want];
      tags = new byte[(int) want];
    } else {
      Arrays.fill(ids, 0);
      Arrays.fill(tags, (byte) 0);
    }
    used = 0;
  }

  /**
   * At the end of a pass every entry is of an older pass (never looked at again), so the table goes
   * back to its minimum size: in a merged steady state it held next to nothing.
   */
  void drop() {
    if (ids.length > MIN_SLOTS) {
      ids = new int[MIN_SLOTS];
      tags = new byte[MIN_SLOTS];
    }
    used = 0;
  }

  /** Slots of the table (for tests). */
  int capacity() {
    return ids.length;
  }

  /** The page of the item the last {@link #searchInsert} found. */
  int foundPfn() {
    return foundPfn;
  }

  /**
   * {@code unstable_tree_search_insert}: an item of this pass whose page currently has content
   * {@code content} (its page: {@link #foundPfn()}); or {@link #SAME_FRAME} when that page is
   * {@code pfn} itself (a forked page, not inserted, as the kernel does); or {@link #INSERTED}
   * after inserting {@code id} (the caller marks it {@code UNSTABLE|seqnr}).
   */
  int searchInsert(int id, int pfn, long content) {
    if ((used + 1) * 5L > ids.length * 4L) {
      grow();
    }
    long h = hashOf(content);
    byte tag = tagOf(h);
    int[] ids = this.ids;
    byte[] tags = this.tags;
    int cap = ids.length;
    int tomb = -1;
    int i = home(h, cap);
    while (tags[i] != 0) {
      if (tags[i] == tag) {
        int e = ids[i];
        if (e == TOMBSTONE) {
          if (tomb < 0) {
            tomb = i;
          }
        } else if (e - 1 != id && pages.live(e - 1)) {
          int t = e - 1;
          int tp = pages.pageOf(t);
          if (tp > 0 && pages.content(tp) == content) {
            if (tp == pfn) {
              return SAME_FRAME;
            }
            foundPfn = tp;
            return t;
          }
        }
      }
      i = i + 1 == cap ? 0 : i + 1;
    }
    if (tomb >= 0) {
      ids[tomb] = id + 1;
    } else {
      ids[i] = id + 1;
      tags[i] = tag;
      used++;
    }
    return INSERTED;
  }

  /**
   * rb_erase of item {@code id} inserted this pass, found by its page's current {@code content}.
   */
  void erase(int id, long content) {
    long h = hashOf(content);
    int cap = ids.length;
    for (int i = home(h, cap); tags[i] != 0; i = i + 1 == cap ? 0 : i + 1) {
      if (ids[i] == id + 1) {
        ids[i] = TOMBSTONE; // keeps its tag: a tombstone of the same probe sequence
        return;
      }
    }
  }

  /**
   * Rebuilds the table at about 1.6 times its live entries (rare: only if more items are inserted
   * in one pass than existed at its start). Home slots are recomputed from the pages' current
   * contents; entries whose page is gone or no longer live are dropped.
   */
  private void grow() {
    int[] oldIds = ids;
    long live = 0;
    for (int e : oldIds) {
      if (e > 0 && pages.live(e - 1)) {
        live++;
      }
    }
    int cap = (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(1024L, (live + 1) * 8 / 5 + 16));
    ids = new int[cap];
    tags = new byte[cap];
    used = 0;
    for (int e : oldIds) {
      if (e > 0 && pages.live(e - 1)) {
        int tp = pages.pageOf(e - 1);
        if (tp <= 0) {
          continue;
        }
        long h = hashOf(pages.content(tp));
        int i = home(h, cap);
        while (tags[i] != 0) {
          i = i + 1 == cap ? 0 : i + 1;
        }
        ids[i] = e;
        tags[i] = tagOf(h);
        used++;
      }
    }
  }

  private static long hashOf(long content) {
    return Fingerprint.avalanche(content);
  }

  private static byte tagOf(long hash) {
    int t = (int) hash & 0xFF;
    return (byte) (t == 0 ? 1 : t);
  }

  private static int home(long hash, int cap) {
    return (int) (((hash >>> 32) * cap) >>> 32);
  }

  /** The table's state (checkpoint; pure): its slots as they are. */
  org.mmumesh.checkpoint.v1.UnstableTreeState checkpoint() {
    return org.mmumesh.checkpoint.v1.UnstableTreeState.newBuilder()
        .setIds(org.mmumesh.checkpoint.PackedArrays.ints(ids, 0, ids.length))
        .setTags(org.mmumesh.checkpoint.PackedArrays.bytes(tags, 0, tags.length))
        .setUsedSlots(used)
        .build();
  }

  /** Sets this (fresh) table from {@code s}; item ids must lie below {@code itemCount}. */
  void restore(org.mmumesh.checkpoint.v1.UnstableTreeState s, int itemCount) {
    int cap = s.getTags().size();
    org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
        "unstable_tree.tags size", cap, MIN_SLOTS, Integer.MAX_VALUE - 8L);
    org.mmumesh.checkpoint.PackedArrays.count("unstable_tree.ids", s.getIds(), Integer.BYTES, cap);
    int[] i = new int[cap];
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getIds(), i, 0, cap);
    byte[] t = s.getTags().toByteArray();
    int occupied = 0;
    for (int k = 0; k < cap; k++) {
      boolean ok = t[k] == 0 ? i[k] == 0 : i[k] == TOMBSTONE || (i[k] >= 1 && i[k] <= itemCount);
      if (!ok) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "unstable_tree.ids["
                + k
                + "]: "
                + i[k]
                + " with tag "
                + t[k]
                + "; allowed 0 in an empty slot (tag 0), else -1 (tombstone) or 1 to "
                + itemCount
                + " (item + 1)");
      }
      occupied += t[k] != 0 ? 1 : 0;
    }
    // used counts the tagged slots, except after drop() (end of a pass), which may keep a small
    // table's stale slots with used 0 until the next pass's reset() clears them
    org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
        "unstable_tree.used_slots", s.getUsedSlots(), 0, occupied);
    ids = i;
    tags = t;
    used = s.getUsedSlots();
  }
}
