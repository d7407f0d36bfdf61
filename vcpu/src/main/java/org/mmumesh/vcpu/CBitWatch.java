package org.mmumesh.vcpu;

import it.unimi.dsi.fastutil.longs.LongOpenHashSet;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.CBitWatchState;
import org.mmumesh.common.Access;

/**
 * Counts quirk Q4's missed C bits (spec 1.3 Q4, 8.4 TV32): a host mapping made writable by a load
 * or fetch fault while the guest HPTE's C bit was clear lets later guest stores complete with no
 * exit, so the guest C bit stays clear. This is the one decision procedure both engines use ({@code
 * SequentialEngine} and the {@link Vcpu} actor), so they count {@code MISSED_C} alike.
 *
 * <p><b>Model.</b> Pages (guest effective page, {@code ea >>> 12}) are <em>watched</em> from the
 * moment such a writable mapping is installed ({@link #onMapped}). A TLB entry filled from a
 * writable host HPTE of a watched page carries {@link #PROT_WATCH_C}; a store that completes
 * through such an entry reads the guest HPTE's C bit now ({@link #onWatchedStore}): clear means a
 * missed C (counted; the page stays watched), set or no guest HPTE ends the watch, and the caller
 * clears {@link #PROT_WATCH_C} from that TLB entry ({@link Tlb#clearProt}). The watch is
 * instrumentation only: it never changes what the TLB or the host MMU do.
 *
 * <p>Not thread-safe; one owner (a VM in the engine, a vCPU actor in the mesh).
 */
public final class CBitWatch {
  /** The TLB protection bit marking an entry of a watched page (above {@link Tlb}'s own bits). */
  public static final int PROT_WATCH_C = 4;

  /** What a watched store found. */
  public enum Verdict {
    /** The guest C bit is still clear: a store completed without setting it (count it). */
    MISSED_C,
    /** C is set (or no guest HPTE translates the page any more): the watch ends. */
    WATCH_ENDED
  }

  private final LongOpenHashSet pages = new LongOpenHashSet();

  /**
   * Whether a mapping installed by a fault starts a watch: it is writable, the fault was not a
   * store, and the fault's xlate left the guest C bit clear (or did not run: a real-mode access).
   *
   * @param readOnly the host HPTE was installed read-only
   * @param xlateCAfter the fault's last xlate left C set ({@code XlateResult.cAfter()})
   * @param faultAccess the faulting access
   */
  public static boolean startsWatch(boolean readOnly, boolean xlateCAfter, Access faultAccess) {
    return !readOnly && !xlateCAfter && faultAccess != Access.STORE;
  }

  /** A host mapping of {@code eaddr} was installed by a fault (see {@link #startsWatch}). */
  public void onMapped(long eaddr, boolean readOnly, boolean xlateCAfter, Access faultAccess) {
    if (startsWatch(readOnly, xlateCAfter, faultAccess)) {
      pages.add(eaddr >>> 12);
    }
  }

  /** {@code prot} for a TLB entry of {@code ea} filled from a host HPTE, with the watch bit. */
  public int tlbProt(long ea, int prot) {
    return (prot & Tlb.PROT_WRITE) != 0 && pages.contains(ea >>> 12) ? prot | PROT_WATCH_C : prot;
  }

  /**
   * A store to {@code ea} completed through a TLB entry with {@link #PROT_WATCH_C}.
   *
   * @param guestPteFound a guest HPTE translates {@code ea} now
   * @param guestC its C bit
   */
  public Verdict onWatchedStore(long ea, boolean guestPteFound, boolean guestC) {
    if (guestPteFound && !guestC) {
      return Verdict.MISSED_C;
    }
    pages.remove(ea >>> 12);
    return Verdict.WATCH_ENDED;
  }

  /** The watched pages, ascending (style rule 26). Pure. */
  public CBitWatchState checkpoint() {
    long[] p = pages.toLongArray();
    java.util.Arrays.sort(p);
    CBitWatchState.Builder b = CBitWatchState.newBuilder();
    for (long page : p) {
      b.addWatchedPages(page);
    }
    return b.build();
  }

  /**
   * Puts {@code state} into this fresh watch.
   *
   * @throws CheckpointMismatchException when the pages are not strictly ascending effective pages
   *     (below 2^52); nothing changed then
   */
  public void restore(CBitWatchState state) {
    long prev = -1;
    for (int k = 0; k < state.getWatchedPagesCount(); k++) {
      long page = state.getWatchedPages(k);
      CheckpointMismatchException.checkRange(
          "watched_pages[" + k + "]", page, prev + 1, (1L << 52) - 1);
      prev = page;
    }
    pages.clear();
    pages.addAll(state.getWatchedPagesList());
  }

  /** True when {@code ea}'s page is watched. */
  public boolean watches(long ea) {
    return pages.contains(ea >>> 12);
  }

  /** Watched pages. */
  public int size() {
    return pages.size();
  }
}
