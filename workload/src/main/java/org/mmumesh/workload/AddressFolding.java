package org.mmumesh.workload;

import java.util.Arrays;
import org.mmumesh.common.Checks;

/**
 * Folds 64-bit user addresses from a trace into a guest's EA window by <b>first-touch
 * renumbering</b>: the {@code k}-th distinct 4 KiB page the trace touches (k = 0, 1, ...) becomes
 * page {@code k} of the window, and the offset within the page is kept. So a trace touching {@code
 * d} distinct pages needs a window of at least {@code d} pages, wherever in the 64-bit space those
 * pages lay; the order of first touches fixes the result, so folding is deterministic.
 *
 * <p>Stateful (it remembers the pages seen), not thread-safe while folding; once folding is done,
 * {@link #windowPageOf} only reads, so threads may share it for look-ups. After a failed {@link
 * #fold} (window full) the state is undefined for further use: discard the object.
 *
 * <p><b>Limits.</b> At most {@link #windowPages()} distinct pages (the guest memory), at most
 * {@link #MAX_DISTINCT_PAGES} (the table's array bound), and the table may not grow past a quarter
 * of the Java heap's maximum: each is checked before the table grows and fails with an {@link
 * IllegalArgumentException} naming the limit and how to raise it.
 *
 * <p>Implementation: an open-addressing hash table from trace page number to window page, linear
 * probing, kept at most half full; no boxing.
 */
public final class AddressFolding {
  private static final long EMPTY = -1L; // trace page numbers are < 2^52, never -1

  /** The most distinct pages a folding holds (its table is at most 2^30 slots, half full). */
  public static final int MAX_DISTINCT_PAGES = 1 << 29;

  /** Bytes per table slot: a {@code long} key and an {@code int} value. */
  static final int SLOT_BYTES = Long.BYTES + Integer.BYTES;

  private final long windowBaseEa;
  private final long windowPages;
  private long[] keys;
  private int[] vals;
  private int mask;
  private int distinct;

  /**
   * A folding into {@code windowPages} pages starting at {@code windowBaseEa}.
   *
   * @param windowBaseEa page-aligned base EA
   * @param windowPages 1 to {@link GuestImage#MAX_PAGES}
   */
  public AddressFolding(long windowBaseEa, long windowPages) {
    Checks.bitsClear("windowBaseEa", windowBaseEa, MmuKind.PAGE_BYTES - 1, "must be page aligned");
    Checks.inRange("windowPages", windowPages, 1, GuestImage.MAX_PAGES);
    this.windowBaseEa = windowBaseEa;
    this.windowPages = windowPages;
    int cap = 64;
    keys = new long[cap];
    Arrays.fill(keys, EMPTY);
    vals = new int[cap];
    mask = cap - 1;
  }

  /**
   * A folding into the linear-map window of a guest of {@code pages} pages (see {@link MmuKind}).
   */
  public static AddressFolding forGuest(MmuKind mmu, long pages) {
    mmu.checkPages("pages", pages);
    return new AddressFolding(mmu.linearMapBase(), pages);
  }

  /**
   * The window EA for trace {@code address}, renumbering its page on first touch.
   *
   * @throws IllegalArgumentException if the page is new and the window already holds {@link
   *     #windowPages()} distinct pages
   */
  public long fold(long address) {
    long tracePage = address >>> MmuKind.PAGE_SHIFT;
    int slot = slot(tracePage);
    int page;
    if (keys[slot] == tracePage) {
      page = vals[slot];
    } else {
      if (distinct >= windowPages) {
        throw new IllegalArgumentException(
            "pages: the window holds "
                + windowPages
                + " pages, but the trace touches more distinct pages (the next is 0x"
                + Long.toHexString(tracePage << MmuKind.PAGE_SHIFT)
                + "); allowed at most "
                + windowPages
                + " distinct pages; raise pages (the guest memory in pages) or use a shorter"
                + " trace");
      }
      if (distinct >= MAX_DISTINCT_PAGES) {
        throw new IllegalArgumentException(
            "pages: the trace touches more than "
                + MAX_DISTINCT_PAGES
                + " distinct pages (the next is 0x"
                + Long.toHexString(tracePage << MmuKind.PAGE_SHIFT)
                + "); allowed at most "
                + MAX_DISTINCT_PAGES
                + " distinct pages per trace");
      }
      if ((distinct + 1) * 2L > keys.length) {
        checkHeapFor((long) keys.length * 2);
      }
      page = distinct++;
      keys[slot] = tracePage;
      vals[slot] = page;
      if (distinct * 2L > keys.length) {
        grow();
      }
    }
    return windowBaseEa
        + ((long) page << MmuKind.PAGE_SHIFT)
        + (address & (MmuKind.PAGE_BYTES - 1));
  }

  /** The window page trace page {@code tracePage} was folded to, or -1 if not touched yet. */
  public long windowPageOf(long tracePage) {
    int slot = slot(tracePage);
    return keys[slot] == tracePage ? vals[slot] : -1;
  }

  /** How many distinct trace pages have been folded. */
  public int distinctPages() {
    return distinct;
  }

  /** The window's size in pages. */
  public long windowPages() {
    return windowPages;
  }

  /** The window's base EA. */
  public long windowBaseEa() {
    return windowBaseEa;
  }

  private int slot(long key) {
    int i = (int) org.mmumesh.common.Fingerprint.avalanche(key) & mask;
    while (keys[i] != EMPTY && keys[i] != key) {
      i = (i + 1) & mask;
    }
    return i;
  }

  /**
   * Refuses a table of {@code slots} slots that would take more than a quarter of the heap's
   * maximum ({@link Runtime#maxMemory()}), before allocating it.
   */
  private void checkHeapFor(long slots) {
    long bytes = slots * SLOT_BYTES;
    long heap = Runtime.getRuntime().maxMemory();
    if (bytes > heap / 4) {
      throw new IllegalArgumentException(
          "pages: the trace touches more than "
              + distinct
              + " distinct pages; remembering where each was folded needs "
              + (bytes >> 20)
              + " MiB, more than a quarter of the Java heap (max "
              + (heap >> 20)
              + " MiB); raise the heap (-Xmx, e.g. MMUMESH_JAVA_OPTS=-Xmx8g for bin/mmumesh) or use"
              + " a trace that touches fewer distinct pages");
    }
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldVals = vals;
    keys = new long[oldKeys.length * 2];
    Arrays.fill(keys, EMPTY);
    vals = new int[oldKeys.length * 2];
    mask = keys.length - 1;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != EMPTY) {
        int s = slot(oldKeys[i]);
        keys[s] = oldKeys[i];
        vals[s] = oldVals[i];
      }
    }
  }
}
