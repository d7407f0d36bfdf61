package org.mmumesh.ksm;

import java.util.ArrayList;
import java.util.List;

/**
 * ksmd's list of mms and its scan cursor (spec 7.2 and 7.3; {@code ksm_mm_head}, {@code struct
 * mm_slot} and {@code struct ksm_scan} in {@code mm/ksm.c}): which host pages are mergeable, in
 * which order ksmd visits them, and where the current pass stands.
 *
 * <h2>Data structures</h2>
 *
 * <ul>
 *   <li><b>mm_slots</b>: one per VM that has a mergeable region, on a circular list with a head;
 *       each holds its {@link MergeableRegion}s in address order. A VM registered while a pass is
 *       under way is inserted just before the cursor ({@code __ksm_enter}: {@code list_add_tail}
 *       before {@code ksm_scan.mm_slot}), so the running pass does not visit it.
 *   <li><b>rmap_item ids</b>: each region owns a contiguous block of ids, one per address, handed
 *       out in creation order and never reused; {@link #regionOfId} maps an id back (binary search
 *       over the regions by id).
 *   <li><b>the cursor</b> ({@code ksm_scan}): at the list head, or in slot {@code cursorSlot} at
 *       region {@code cursorRegion} and address {@code cursorHva}; {@code seqnr} counts completed
 *       passes ({@code full_scans}).
 * </ul>
 *
 * <p>{@link #next} is the address walk of {@code scan_get_next_rmap_item}; what happens to the
 * rmap_items on the way (creating, freeing) and at the ends of a pass (the unstable tree) is the
 * {@link KsmScanner}'s, through {@link Walk}. Not thread-safe: owned by one {@link KsmScanner}.
 */
final class MmList {
  /** What the scan does on the cursor's way ({@link #next}). */
  interface Walk {
    /** A pass starts at the list head (the unstable tree is reset). */
    void passStarted();

    /** The first present anonymous page of {@code vm} in {@code [from, end)}, or -1. */
    long nextAnonPage(int vm, long from, long end);

    /** The cursor passed the addresses of ids {@code [from, to)} finding no page there. */
    void passed(int from, int to);

    /** The pass ended at the list head ({@code seqnr} already incremented). */
    void passEnded();
  }

  /** Called for each page of a range ({@link #removeMergeable}). */
  interface PageVisitor {
    void visit(int vm, long hva, int id);
  }

  /** {@code struct mm_slot}: one VM's mergeable regions, in address order. */
  static final class MmSlot {
    final int vm;
    final List<MergeableRegion> regions = new ArrayList<>();

    MmSlot(int vm) {
      this.vm = vm;
    }
  }

  private final List<MmSlot> slots = new ArrayList<>();
  private final List<MergeableRegion> regionsById = new ArrayList<>();
  private int nextId;

  // The cursor (ksm_scan): at the head, or in slots[cursorSlot] at cursorRegion/cursorHva.
  private boolean atHead = true;
  private int cursorSlot;
  private int cursorRegion;
  private long cursorHva;
  private long seqnr;

  // The page the last next() returned.
  private int curVm;
  private long curHva;

  boolean isEmpty() {
    return slots.isEmpty();
  }

  /** Completed full passes ({@code ksm_scan.seqnr}). */
  long seqnr() {
    return seqnr;
  }

  /** One past the largest rmap_item id handed out. */
  int idLimit() {
    return nextId;
  }

  /** The regions in id order (for counter recounts). */
  List<MergeableRegion> regionsById() {
    return regionsById;
  }

  /** Every mm_slot, in list order. */
  List<MmSlot> slots() {
    return slots;
  }

  /** The VM of the page the last {@link #next} returned. */
  int currentVm() {
    return curVm;
  }

  /** The host page the last {@link #next} returned. */
  long currentHva() {
    return curHva;
  }

  /**
   * {@code madvise(MADV_MERGEABLE)} bookkeeping: the parts of {@code [hvaPage, hvaPage + pages)}
   * not yet mergeable become regions with fresh ids; the VM gets an mm_slot if it had none. The
   * range is assumed checked by the caller.
   *
   * @throws IllegalArgumentException naming {@code pages} if the ids would run out (nothing done)
   */
  void addMergeable(int vm, long hvaPage, long pages) {
    MmSlot slot = slotOf(vm);
    long end = hvaPage + pages;
    List<long[]> gaps = new ArrayList<>();
    long at = hvaPage;
    if (slot != null) {
      for (MergeableRegion r : slot.regions) {
        if (r.end <= at || r.start >= end) {
          continue;
        }
        if (r.start > at) {
          gaps.add(new long[] {at, r.start});
        }
        at = Math.max(at, r.end);
      }
    }
    if (at < end) {
      gaps.add(new long[] {at, end});
    }
    long newIds = gaps.stream().mapToLong(g -> g[1] - g[0]).sum();
    if (nextId + newIds > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "pages: "
              + pages
              + " is out of range; at most "
              + (Integer.MAX_VALUE - 8L - nextId)
              + " more mergeable pages fit");
    }
    if (slot == null) {
      slot = new MmSlot(vm);
      ksmEnter(slot);
    }
    for (long[] g : gaps) {
      MergeableRegion r = new MergeableRegion(vm, g[0], g[1], nextId);
      nextId = r.idEnd();
      slot.regions.add(r);
      regionsById.add(r);
    }
    slot.regions.sort((a, b) -> Long.compare(a.start, b.start));
    resyncCursor(slot);
  }

  /**
   * {@code madvise(MADV_UNMERGEABLE)} bookkeeping: {@code visitor} sees every mergeable page of the
   * range (to break and free it), then the range leaves the regions (a region cut in two keeps its
   * ids on both sides). The mm_slot stays, possibly empty, as the kernel's does until ksmd passes
   * it.
   */
  void removeMergeable(int vm, long hvaPage, long pages, PageVisitor visitor) {
    MmSlot slot = slotOf(vm);
    if (slot == null) {
      return;
    }
    long end = hvaPage + pages;
    List<MergeableRegion> next = new ArrayList<>();
    for (MergeableRegion r : slot.regions) {
      long lo = Math.max(r.start, hvaPage);
      long hi = Math.min(r.end, end);
      if (lo >= hi) {
        next.add(r);
        continue;
      }
      for (long h = lo; h < hi; h++) {
        visitor.visit(vm, h, r.idOf(h));
      }
      int at = regionsById.indexOf(r);
      regionsById.remove(at);
      if (r.start < lo) {
        MergeableRegion left = new MergeableRegion(vm, r.start, lo, r.idBase);
        next.add(left);
        regionsById.add(at++, left);
      }
      if (hi < r.end) {
        MergeableRegion right = new MergeableRegion(vm, hi, r.end, r.idOf(hi));
        next.add(right);
        regionsById.add(at, right);
      }
    }
    slot.regions.clear();
    slot.regions.addAll(next);
    resyncCursor(slot);
  }

  private MmSlot slotOf(int vm) {
    for (MmSlot s : slots) {
      if (s.vm == vm) {
        return s;
      }
    }
    return null;
  }

  /** {@code __ksm_enter}: list_add_tail before the cursor's mm_slot (or at the end at the head). */
  private void ksmEnter(MmSlot slot) {
    if (atHead) {
      slots.add(slot);
    } else {
      slots.add(cursorSlot, slot);
      cursorSlot++;
    }
  }

  /** After the cursor slot's regions changed: find the region that holds or follows the hva. */
  private void resyncCursor(MmSlot changed) {
    if (atHead || slots.get(cursorSlot) != changed) {
      return;
    }
    int i = 0;
    while (i < changed.regions.size() && changed.regions.get(i).end <= cursorHva) {
      i++;
    }
    cursorRegion = i;
    if (i < changed.regions.size() && cursorHva < changed.regions.get(i).start) {
      cursorHva = changed.regions.get(i).start;
    }
  }

  /** The region that owns rmap_item {@code id}, or null if its address left the regions. */
  MergeableRegion regionOfId(int id) {
    int lo = 0;
    int hi = regionsById.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      MergeableRegion r = regionsById.get(mid);
      if (id < r.idBase) {
        hi = mid - 1;
      } else if (id >= r.idEnd()) {
        lo = mid + 1;
      } else {
        return r;
      }
    }
    return null;
  }

  /**
   * The address walk of {@code scan_get_next_rmap_item}: the id of the next present anonymous page
   * in a mergeable region ({@link #currentVm()}, {@link #currentHva()} then name it), telling
   * {@code walk} about the addresses passed without one; -1 at the end of a full pass ({@code
   * seqnr++}) or if no mm is registered.
   */
  int next(Walk walk) {
    if (slots.isEmpty()) {
      return -1;
    }
    if (atHead) {
      walk.passStarted();
      atHead = false;
      cursorSlot = 0;
      startMm();
    }
    while (true) {
      MmSlot slot = slots.get(cursorSlot);
      while (cursorRegion < slot.regions.size()) {
        MergeableRegion r = slot.regions.get(cursorRegion);
        if (cursorHva < r.start) {
          cursorHva = r.start;
        }
        long page = cursorHva < r.end ? walk.nextAnonPage(slot.vm, cursorHva, r.end) : -1;
        long stop = page < 0 ? r.end : page;
        walk.passed(r.idOf(cursorHva), r.idOf(stop));
        if (page >= 0) {
          curVm = slot.vm;
          curHva = page;
          cursorHva = page + 1;
          return r.idOf(page);
        }
        cursorRegion++;
      }
      // end of this mm (trailing items were passed above); on to the next
      cursorSlot++;
      if (cursorSlot == slots.size()) {
        atHead = true;
        seqnr++;
        walk.passEnded();
        return -1;
      }
      startMm();
    }
  }

  private void startMm() {
    cursorRegion = 0;
    List<MergeableRegion> rs = slots.get(cursorSlot).regions;
    cursorHva = rs.isEmpty() ? 0 : rs.get(0).start;
  }

  /** The next {@link #next} returns the page at {@code hva} again (a handshake rewind). */
  void rewindTo(long hva) {
    cursorHva = hva;
  }

  /** Back to the list head with {@code full_scans} 0 ({@code run=2}). */
  void resetCursor() {
    atHead = true;
    seqnr = 0;
  }

  /** The mm_slots, their regions and the cursor (checkpoint; pure). */
  org.mmumesh.checkpoint.v1.MmListState checkpoint() {
    var b =
        org.mmumesh.checkpoint.v1.MmListState.newBuilder()
            .setNextItemId(nextId)
            .setCursorAtHead(atHead)
            .setCursorSlot(cursorSlot)
            .setCursorRegion(cursorRegion)
            .setCursorHvaPage(cursorHva)
            .setFullScans(seqnr)
            .setCurrentVmId(curVm)
            .setCurrentHvaPage(curHva);
    for (MmSlot s : slots) {
      var sb = org.mmumesh.checkpoint.v1.MmSlotState.newBuilder().setVmId(s.vm);
      for (MergeableRegion r : s.regions) {
        sb.addRegions(
            org.mmumesh.checkpoint.v1.MergeableRegionState.newBuilder()
                .setStartHvaPage(r.start)
                .setEndHvaPage(r.end)
                .setFirstItemId(r.idBase));
      }
      b.addMmSlots(sb);
    }
    return b.build();
  }

  /**
   * Sets this (fresh) list from {@code s}: every VM must satisfy {@code vmExists}, regions must be
   * ordered, disjoint, and their item ids disjoint and below {@code next_item_id}; the cursor must
   * name a slot and region that exist. The by-id index is rebuilt (it is derived).
   */
  void restore(org.mmumesh.checkpoint.v1.MmListState s, java.util.function.IntPredicate vmExists) {
    int next =
        (int)
            org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
                "mm_list.next_item_id", s.getNextItemId(), 0, Integer.MAX_VALUE - 8L);
    List<MmSlot> built = new ArrayList<>();
    List<MergeableRegion> byId = new ArrayList<>();
    java.util.Set<Integer> vms = new java.util.HashSet<>();
    for (int i = 0; i < s.getMmSlotsCount(); i++) {
      var ss = s.getMmSlots(i);
      String f = "mm_list.mm_slots[" + i + "]";
      if (!vmExists.test(ss.getVmId()) || !vms.add(ss.getVmId())) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            f + ".vm_id: " + ss.getVmId() + " is not a VM of the page frames, or repeats");
      }
      MmSlot slot = new MmSlot(ss.getVmId());
      long prevEnd = 0;
      for (int j = 0; j < ss.getRegionsCount(); j++) {
        var rs = ss.getRegions(j);
        String rf = f + ".regions[" + j + "]";
        long start =
            org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
                rf + ".start_hva_page",
                rs.getStartHvaPage(),
                prevEnd,
                org.mmumesh.pageframe.PageFrames.MAX_HVA_PAGE);
        long end =
            org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
                rf + ".end_hva_page",
                rs.getEndHvaPage(),
                start + 1,
                org.mmumesh.pageframe.PageFrames.MAX_HVA_PAGE + 1);
        org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
            rf + ".first_item_id",
            Integer.toUnsignedLong(rs.getFirstItemId()),
            0,
            next - (end - start));
        prevEnd = end;
        MergeableRegion r = new MergeableRegion(slot.vm, start, end, rs.getFirstItemId());
        slot.regions.add(r);
        byId.add(r);
      }
      built.add(slot);
    }
    byId.sort((a, b) -> Integer.compare(a.idBase, b.idBase));
    for (int k = 1; k < byId.size(); k++) {
      if (byId.get(k).idBase < byId.get(k - 1).idEnd()) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "mm_list: the item ids of two regions overlap (from "
                + byId.get(k).idBase
                + "); allowed disjoint id ranges");
      }
    }
    if (!s.getCursorAtHead()) {
      int cs =
          (int)
              org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
                  "mm_list.cursor_slot", s.getCursorSlot(), 0, built.size() - 1L);
      org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
          "mm_list.cursor_region", s.getCursorRegion(), 0, built.get(cs).regions.size());
    }
    slots.clear();
    slots.addAll(built);
    regionsById.clear();
    regionsById.addAll(byId);
    nextId = next;
    atHead = s.getCursorAtHead();
    cursorSlot = s.getCursorSlot();
    cursorRegion = s.getCursorRegion();
    cursorHva = s.getCursorHvaPage();
    seqnr = s.getFullScans();
    curVm = s.getCurrentVmId();
    curHva = s.getCurrentHvaPage();
  }
}
