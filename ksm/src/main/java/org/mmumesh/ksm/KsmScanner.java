package org.mmumesh.ksm;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.pageframe.PageFrames;

/**
 * ksmd for one simulated host, with the 2013 kernel's semantics (spec section 7, mm/ksm.c of
 * v3.10-v3.13).
 *
 * <h2>Data structures (spec 7.2)</h2>
 *
 * <ul>
 *   <li><b>mm_slots</b>: one per VM that has a mergeable region, on a circular list with a head;
 *       each holds its {@link MergeableRegion}s in address order. A VM registered while a pass is
 *       under way is inserted just before the cursor, as {@code __ksm_enter} does.
 *   <li><b>rmap_items</b>: one per scanned (mm, address), in primitive arrays ({@link RmapItems},
 *       10 bytes per mergeable page), created when ksmd first finds a present anonymous page at the
 *       address and freed when it passes the address and finds none.
 *   <li><b>stable tree</b> ({@link StableTree}): nodes keyed by content, each with its KSM frame
 *       ({@code kpfn}) and item count. A node whose frame was freed (checked through the frame
 *       generation, the kernel's "keyhole" {@code get_ksm_page}) is pruned when it is next looked
 *       up or one of its items is next removed.
 *   <li><b>unstable tree</b> ({@link UnstableTree}): items of not-yet-merged pages keyed by their
 *       <em>current</em> content, emptied at the start of every full pass. Held as an
 *       open-addressing table of item ids whose keys are recomputed from the pages when probed, so
 *       it "can become wrong as pages change" just like the kernel's tree (an entry whose page
 *       changed is simply not found).
 * </ul>
 *
 * <p><b>Modelling notes.</b> Contents are {@link Fingerprint}s; memcmp order is replaced by
 * fingerprint equality (hash tables instead of red-black trees), so the kernel's tree-path
 * artefacts (an equal page missed because a changed page misordered the unstable tree, or a search
 * stopped at a non-present tree page) are not reproduced. The 32-bit checksum ({@code jhash2} over
 * the page in the kernel) is derived from the fingerprint ({@link #checksum(long)}). Time is
 * simulated: {@link #advanceTo(long)} runs every batch that is due, one every {@code
 * sleep_millisecs}; a batch costs "pages visited" which engines may charge as time.
 * MADV_UNMERGEABLE frees the range's rmap_items at once (the kernel frees them when ksmd next
 * passes); {@code merge_across_nodes} is not modelled (one node).
 *
 * <h2>The merge handshake ({@link WriteProtectGate})</h2>
 *
 * A scanner built with a gate other than {@link WriteProtectGate#SYNCHRONOUS} (the actor mesh's
 * {@link KsmFrameScanner}) write-protects, before it changes anything for a merge, every page the
 * merge will write-protect; if one of them has an invalidation whose acknowledgements are
 * outstanding it rewinds the cursor to the page, ends the batch early and reports {@link
 * #handshakePending()}. The page is not counted as visited then: it is counted when re-processed.
 * Re-processing runs {@code cmp_and_merge_page} again (its earlier steps are idempotent: the item
 * already left its tree, the rmap item exists, stale nodes were pruned), so if nothing happened in
 * between the outcome is exactly the synchronous scanner's (tested), and if a store changed a page
 * meanwhile the checksum or content checks refuse the merge ("merge only if the fingerprint is
 * still F"). A page that needs a handshake again on its re-processing (it became writable again in
 * between) is not rewound a second time: that merge is abandoned for this pass ({@link
 * #handshakesAbandoned()}), which bounds the work of a batch.
 *
 * <p>Not thread-safe: one engine or one actor drives it, together with the {@link PageFrames} it
 * scans.
 */
public final class KsmScanner {
  /** Default {@code pages_to_scan} (spec 7.1). */
  public static final int DEFAULT_PAGES_TO_SCAN = 100;

  /** Default {@code sleep_millisecs} (spec 7.1). */
  public static final long DEFAULT_SLEEP_MILLISECS = 20;

  /** Largest {@code sleep_millisecs}/{@code pages_to_scan} the kernel accepts (UINT_MAX). */
  public static final long UINT_MAX = 0xFFFF_FFFFL;

  /** {@code run} values (spec 7.1). */
  public static final int RUN_STOP = 0;

  public static final int RUN_MERGE = 1;
  public static final int RUN_UNMERGE = 2;

  private static final class MmSlot {
    final int vm;
    final List<MergeableRegion> regions = new ArrayList<>();

    MmSlot(int vm) {
      this.vm = vm;
    }
  }

  private final PageFrames pf;
  private final WriteProtectGate gate;
  private final RmapItems items = new RmapItems();
  private final StableTree stable = new StableTree();
  private final List<MmSlot> mmList = new ArrayList<>();
  private final List<MergeableRegion> regionsById = new ArrayList<>();
  private int nextId;

  // The unstable tree, over this scanner's items and frames (new items cannot be inserted during
  // the pass that created them: their checksum is 0; items in the stable tree are not, unless they
  // leave it).
  private final UnstableTree unstable = new UnstableTree(new UnstablePages());

  // Scan cursor (ksm_scan): at the list head, or in mmList[cursorSlot] at cursorRegion/cursorHva.
  private boolean atHead = true;
  private int cursorSlot;
  private int cursorRegion;
  private long cursorHva;
  private long seqnr;

  // The page returned by the last scanGetNextRmapItem.
  private int curVm;
  private long curHva;
  private int curPfn;

  // The page behind the item the unstable tree returned (treeVm, treeHva set by treePageOf).
  private int treeVm;
  private long treeHva;
  private int treePfn;

  // The merge handshake: cmpAndMergePage asks the batch to stop and rewind; the item rewound last.
  private boolean rewind;
  private boolean revisiting;
  private int rewoundItem = -1;
  private boolean handshakePending;
  private long handshakeRewinds;
  private long handshakesAbandoned;

  // Counters (spec 7.5).
  private final KsmCounters counters = new KsmCounters();

  // The incremental counter check, attached by the first counterViolationsIncremental().
  private KsmAudit audit;

  // Controls (spec 7.1).
  private long pagesToScan = DEFAULT_PAGES_TO_SCAN;
  private long sleepMillisecs = DEFAULT_SLEEP_MILLISECS;
  private int run = RUN_STOP;
  private long nextBatchNanos;
  private long nowNanos;

  /**
   * A scanner over the VMs of {@code pageFrames}, stopped ({@code run=0}) like a freshly booted
   * kernel; set {@link #setRun(int)} to 1 to start it.
   */
  public KsmScanner(PageFrames pageFrames) {
    this(pageFrames, WriteProtectGate.SYNCHRONOUS);
  }

  /**
   * A stopped scanner over the VMs of {@code pageFrames} whose merges wait for the handshakes
   * {@code gate} reports as outstanding (see the class comment).
   */
  public KsmScanner(PageFrames pageFrames, WriteProtectGate gate) {
    this.pf = java.util.Objects.requireNonNull(pageFrames, "pageFrames");
    this.gate = java.util.Objects.requireNonNull(gate, "gate");
  }

  // ---------------------------------------------------------------- controls (spec 7.1)

  /** Sets {@code pages_to_scan}: 0 to UINT_MAX. */
  public void setPagesToScan(long pages) {
    Checks.inRange("pages_to_scan", pages, 0, UINT_MAX);
    pagesToScan = pages;
  }

  public long pagesToScan() {
    return pagesToScan;
  }

  /**
   * Sets {@code sleep_millisecs} in simulated time: 1 to UINT_MAX. (The kernel accepts 0; with
   * batches that take no simulated time 0 would mean infinitely many batches at one instant.) The
   * next batch is rescheduled relative to the last one.
   */
  public void setSleepMillisecs(long millis) {
    Checks.inRange("sleep_millisecs", millis, 1, UINT_MAX);
    nextBatchNanos += (millis - sleepMillisecs) * 1_000_000L;
    sleepMillisecs = millis;
    if (nextBatchNanos < nowNanos) {
      nextBatchNanos = nowNanos;
    }
  }

  public long sleepMillisecs() {
    return sleepMillisecs;
  }

  /**
   * Sets {@code run}: 0 stops (merges stay), 1 runs, 2 stops and unmerges everything at once
   * ({@code unmerge_and_remove_all_rmap_items}: every KSM page in every mergeable region is broken
   * by a write fault, every rmap_item freed, the stable tree emptied, {@code full_scans} reset to
   * 0), as a write to {@code /sys/kernel/mm/ksm/run} does.
   */
  public void setRun(int value) {
    Checks.inRange("run", value, RUN_STOP, RUN_UNMERGE);
    if (value == run) {
      return;
    }
    run = value;
    if (value == RUN_MERGE) {
      nextBatchNanos = nowNanos; // ksmd wakes at once (wait_event on ksmd_should_run)
    }
    if (value == RUN_UNMERGE) {
      unmergeAndRemoveAllRmapItems();
    }
  }

  public int run() {
    return run;
  }

  // ---------------------------------------------------------------- madvise

  /**
   * {@code madvise(MADV_MERGEABLE)} on host pages {@code [hvaPage, hvaPage + pages)} of {@code vm}:
   * parts not yet mergeable become mergeable; the VM gets an mm_slot if it had none.
   */
  public void madviseMergeable(int vm, long hvaPage, long pages) {
    checkRange(vm, hvaPage, pages);
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
    items.ensure(nextId);
    resyncCursor(slot);
  }

  /**
   * {@code madvise(MADV_UNMERGEABLE)}: breaks every KSM page in the range ({@code
   * unmerge_ksm_pages}) and frees the range's rmap_items at once (counters adjusted).
   */
  public void madviseUnmergeable(int vm, long hvaPage, long pages) {
    checkRange(vm, hvaPage, pages);
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
        int pfn = pf.ptePfn(vm, h);
        if (pfn > 0 && pf.isKsmPage(pfn)) {
          pf.breakKsm(vm, h);
        }
        freeItem(r.idOf(h));
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

  private void checkRange(int vm, long hvaPage, long pages) {
    if (!pf.hasVm(vm)) {
      Checks.inRange("vm", vm, 0, PageFrames.MAX_VM);
      throw new IllegalArgumentException("vm: " + vm + " does not exist in the page frames");
    }
    Checks.inRange("hvaPage", hvaPage, 0, PageFrames.MAX_HVA_PAGE);
    Checks.inRange("pages", pages, 1, PageFrames.MAX_HVA_PAGE + 1 - hvaPage);
  }

  private MmSlot slotOf(int vm) {
    for (MmSlot s : mmList) {
      if (s.vm == vm) {
        return s;
      }
    }
    return null;
  }

  /** {@code __ksm_enter}: list_add_tail before the cursor's mm_slot (or at the end at the head). */
  private void ksmEnter(MmSlot slot) {
    if (atHead) {
      mmList.add(slot);
    } else {
      mmList.add(cursorSlot, slot);
      cursorSlot++;
    }
  }

  /** After the cursor slot's regions changed: find the region that holds or follows the hva. */
  private void resyncCursor(MmSlot changed) {
    if (atHead || mmList.get(cursorSlot) != changed) {
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

  // ---------------------------------------------------------------- time and batches (spec 7.3)

  /**
   * Advances simulated time to {@code simNanos}, running every batch due: ksmd runs a batch, sleeps
   * {@code sleep_millisecs}, runs the next; setting {@code run} to 1 wakes it at the current
   * simulated time (the time of the last {@code advanceTo}). Batches take no simulated time here;
   * engines charge the returned cost as they see fit.
   *
   * @return pages visited by the batches run (the simulated cost)
   */
  public long advanceTo(long simNanos) {
    Checks.inRange("simNanos", simNanos, nowNanos, Long.MAX_VALUE);
    long period = sleepMillisecs * 1_000_000L;
    long visited = 0;
    while (nextBatchNanos <= simNanos) {
      if (run != RUN_MERGE) {
        long k = (simNanos - nextBatchNanos) / period + 1;
        nextBatchNanos += k * period;
        break;
      }
      visited += runBatch();
      nextBatchNanos += period;
    }
    nowNanos = simNanos;
    return visited;
  }

  /** The simulated time the next batch is due at. */
  public long nextBatchNanos() {
    return nextBatchNanos;
  }

  /**
   * Runs one batch now ({@code ksm_do_scan(pages_to_scan)}) if {@code run == 1}: up to {@code
   * pages_to_scan} pages; a batch ends early when a full pass completes.
   *
   * @return pages visited
   */
  public int runBatch() {
    if (run != RUN_MERGE) {
      return 0;
    }
    return (int) scanBatch(pagesToScan);
  }

  /**
   * One batch of up to {@code maxPages} pages if {@code run == 1} (else nothing): like {@link
   * #runBatch()} with an explicit budget, ending early when a full pass completes or, with a gate,
   * when a merge waits for a handshake ({@link #handshakePending()} is then true until the next
   * batch).
   *
   * @param maxPages 0 to {@link Long#MAX_VALUE}
   * @return pages visited (the page rewound for a handshake is not counted)
   */
  public long scanBatch(long maxPages) {
    Checks.inRange("maxPages", maxPages, 0, Long.MAX_VALUE);
    handshakePending = false;
    if (run != RUN_MERGE) {
      return 0;
    }
    long visited = 0;
    while (visited < maxPages) {
      int id = scanGetNextRmapItem();
      if (id < 0) {
        break;
      }
      revisiting = id == rewoundItem;
      rewoundItem = -1;
      if (!pf.isKsmPage(curPfn) || !inStableTree(id)) {
        cmpAndMergePage(curVm, curHva, curPfn, id);
        if (rewind) {
          rewind = false;
          cursorHva = curHva; // scan_get_next_rmap_item returns this page again
          rewoundItem = id;
          handshakePending = true;
          handshakeRewinds++;
          break;
        }
      }
      visited++;
    }
    revisiting = false;
    counters.pagesVisited += visited;
    return visited;
  }

  /**
   * True if the last {@link #scanBatch} or {@link #scanFullPasses} stopped early because a merge
   * waits for a handshake: complete the handshake, then scan on.
   */
  public boolean handshakePending() {
    return handshakePending;
  }

  /** Batches that stopped early for a handshake (each rewound one page). */
  public long handshakeRewinds() {
    return handshakeRewinds;
  }

  /** Merges abandoned for the pass because the re-processed page needed a handshake again. */
  public long handshakesAbandoned() {
    return handshakesAbandoned;
  }

  /**
   * {@link #runFullScans} for a gated scanner: runs until {@code passes} more full scans completed
   * or a merge waits for a handshake ({@link #handshakePending()}); call again with the passes
   * still to do once the handshake is complete.
   *
   * @param passes 0 to {@link Integer#MAX_VALUE}
   * @return full passes completed by this call
   * @throws IllegalArgumentException if {@code run} is not 1
   */
  public int scanFullPasses(int passes) {
    Checks.inRange("passes", passes, 0, Integer.MAX_VALUE);
    if (run != RUN_MERGE) {
      throw new IllegalArgumentException(
          "run: " + run + " is not allowed for full scans; allowed " + RUN_MERGE);
    }
    handshakePending = false;
    long start = seqnr;
    long target = seqnr + passes;
    while (seqnr < target && !mmList.isEmpty()) {
      scanBatch(Long.MAX_VALUE);
      if (handshakePending) {
        break;
      }
    }
    return (int) (seqnr - start);
  }

  /** Runs batches until {@code passes} more full scans have completed (for lockstep tests). */
  public void runFullScans(int passes) {
    Checks.inRange("passes", passes, 0, Integer.MAX_VALUE);
    if (run != RUN_MERGE) {
      throw new IllegalStateException("run is " + run + ", not 1");
    }
    long target = seqnr + passes;
    while (seqnr < target) {
      if (mmList.isEmpty() || pagesToScan == 0) {
        return;
      }
      runBatch();
    }
  }

  /**
   * {@code scan_get_next_rmap_item}: the next present anonymous page in a mergeable region and its
   * rmap_item (created if new), freeing items of addresses passed without one; -1 at the end of a
   * full pass (seqnr++) or if no mm is registered.
   */
  private int scanGetNextRmapItem() {
    if (mmList.isEmpty()) {
      return -1;
    }
    if (atHead) {
      resetUnstableTree();
      atHead = false;
      cursorSlot = 0;
      startMm();
    }
    while (true) {
      MmSlot slot = mmList.get(cursorSlot);
      while (cursorRegion < slot.regions.size()) {
        MergeableRegion r = slot.regions.get(cursorRegion);
        if (cursorHva < r.start) {
          cursorHva = r.start;
        }
        long page = cursorHva < r.end ? pf.nextAnonPage(slot.vm, cursorHva, r.end) : -1;
        long stop = page < 0 ? r.end : page;
        for (int id = r.idOf(cursorHva), e = r.idOf(stop); id < e; id++) {
          if (items.flags(id) != 0) {
            freeItem(id);
          }
        }
        if (page >= 0) {
          int id = r.idOf(page);
          if (items.flags(id) == 0) {
            items.setFlags(id, RmapItems.EXISTS);
            items.setOldChecksum(id, 0);
            items.setNode(id, 0);
            counters.rmapItems++;
          }
          curVm = slot.vm;
          curHva = page;
          curPfn = pf.ptePfn(slot.vm, page);
          cursorHva = page + 1;
          return id;
        }
        cursorRegion++;
      }
      // end of this mm (trailing items were freed above); on to the next
      cursorSlot++;
      if (cursorSlot == mmList.size()) {
        atHead = true;
        seqnr++;
        dropUnstableTree();
        return -1;
      }
      startMm();
    }
  }

  private void startMm() {
    cursorRegion = 0;
    List<MergeableRegion> rs = mmList.get(cursorSlot).regions;
    cursorHva = rs.isEmpty() ? 0 : rs.get(0).start;
  }

  // ---------------------------------------------------------------- cmp_and_merge_page (7.4)

  private boolean inStableTree(int id) {
    return (items.flags(id) & RmapItems.STABLE) != 0 && stable.inTree[items.node(id)];
  }

  private void cmpAndMergePage(int vm, long hva, int pfn, int id) {
    long content = pf.frameFingerprint(pfn);
    // page_stable_node(page): the node of a KSM page is the one keyed by its (immutable) content
    int pageNode = 0;
    if (pf.isKsmPage(pfn)) {
      int n = stable.find(content);
      if (n != 0 && stable.kpfn[n] == pfn && !isStale(n)) {
        pageNode = n;
      }
      if (pageNode != 0 && itemNode(id) == pageNode) {
        return;
      }
    }
    int node = stableTreeSearch(content);
    int kpfn = node == 0 ? -1 : stable.kpfn[node];
    if (kpfn == pfn && itemNode(id) == node) {
      return;
    }
    removeRmapItemFromTree(id);
    if (node != 0) {
      if (pfn != kpfn && awaitHandshake(vm, hva, pfn, -1, 0, 0)) {
        return;
      }
      if (tryToMergeOnePage(vm, hva, pfn, kpfn)) {
        stableTreeAppend(id, node);
      }
      return;
    }
    int cs = checksum(content);
    if (items.oldChecksum(id) != cs) {
      items.setOldChecksum(id, cs);
      return;
    }
    int treeItem = unstableTreeSearchInsert(id, pfn, content);
    if (treeItem < 0) {
      return;
    }
    if (awaitHandshake(vm, hva, pfn, treeVm, treeHva, treePfn)) {
      return;
    }
    // try_to_merge_two_pages: this page becomes the KSM page, the tree page is merged into it
    boolean ok = tryToMergeOnePage(vm, hva, pfn, -1);
    if (ok) {
      ok = tryToMergeOnePage(treeVm, treeHva, treePfn, pfn);
      if (ok) {
        removeRmapItemFromTree(treeItem);
      } else {
        breakCow(vm, hva);
      }
    }
    if (!ok) {
      return;
    }
    int newNode = stableTreeInsert(pfn, content);
    if (newNode != 0) {
      stableTreeAppend(treeItem, newNode);
      stableTreeAppend(id, newNode);
    } else {
      breakCow(treeVm, treeHva);
      breakCow(vm, hva);
    }
  }

  private int itemNode(int id) {
    return (items.flags(id) & RmapItems.STABLE) != 0 ? items.node(id) : 0;
  }

  /**
   * {@code try_to_merge_one_page}: write-protect the mapping, then either make the page the KSM
   * page in place ({@code kpfn < 0}) or replace it by {@code kpfn} after the full equality check.
   */
  private boolean tryToMergeOnePage(int vm, long hva, int pfn, int kpfn) {
    if (pfn == kpfn) {
      return true; // a forked KSM page
    }
    if (pf.isZeroPage(pfn) || !pf.writeProtectPage(vm, hva, pfn)) {
      return false;
    }
    if (kpfn < 0) {
      pf.makeKsmPage(vm, hva, pfn);
      return true;
    }
    return pf.replacePage(vm, hva, pfn, kpfn);
  }

  /**
   * The handshake gate (class comment), before a merge changes anything: write-protects the page
   * and then, if that succeeded and {@code vm2 >= 0}, the tree page, in the order the synchronous
   * merge does (a failed write-protect is left for the merge to fail on, as it would). True if the
   * merge must not go on now: the batch is asked to rewind ({@link #rewind}), or, when this page is
   * being re-processed after a handshake already, the merge is abandoned for this pass.
   */
  private boolean awaitHandshake(int vm1, long hva1, int pfn1, int vm2, long hva2, int pfn2) {
    if (gate == WriteProtectGate.SYNCHRONOUS || pf.isZeroPage(pfn1)) {
      return false;
    }
    if (!pf.writeProtectPage(vm1, hva1, pfn1)) {
      return false;
    }
    boolean outstanding = gate.acksOutstanding(vm1, hva1);
    if (vm2 >= 0 && !pf.isZeroPage(pfn2) && pf.writeProtectPage(vm2, hva2, pfn2)) {
      outstanding |= gate.acksOutstanding(vm2, hva2);
    }
    if (!outstanding) {
      return false;
    }
    if (revisiting) {
      handshakesAbandoned++;
    } else {
      rewind = true;
    }
    return true;
  }

  private void breakCow(int vm, long hva) {
    pf.breakKsm(vm, hva);
  }

  /** {@code stable_tree_search}: the live node holding this content, pruning a stale one. */
  private int stableTreeSearch(long content) {
    int n = stable.find(content);
    if (n != 0 && isStale(n)) {
      pruneStableNode(n);
      return 0;
    }
    return n;
  }

  /** {@code stable_tree_insert}: 0 if a live node with equal content exists already. */
  private int stableTreeInsert(int kpfn, long content) {
    int n = stable.find(content);
    if (n != 0) {
      if (!isStale(n)) {
        return 0;
      }
      pruneStableNode(n);
    }
    return stable.insert(content, kpfn, pf.frameGeneration(kpfn));
  }

  /** {@code get_ksm_page} failing: the KSM frame was freed (or freed and reused). */
  private boolean isStale(int n) {
    int kpfn = stable.kpfn[n];
    return !pf.isKsmPage(kpfn) || pf.frameGeneration(kpfn) != stable.kgen[n];
  }

  /** {@code remove_node_from_stable_tree}: every item leaves the node, counters follow 7.5. */
  private void pruneStableNode(int n) {
    int k = stable.items[n];
    if (k > 0) {
      counters.pagesShared--;
      counters.pagesSharing -= k - 1;
      stable.items[n] = 0;
    }
    stable.erase(n);
  }

  /** {@code stable_tree_append}: first item counts as shared, the others as sharing. */
  private void stableTreeAppend(int id, int n) {
    if (stable.items[n]++ == 0) {
      counters.pagesShared++;
    } else {
      counters.pagesSharing++;
    }
    stable.refs[n]++;
    items.setNode(id, n);
    items.setFlags(id, (byte) ((items.flags(id) & ~RmapItems.UNSTABLE) | RmapItems.STABLE));
  }

  /** {@code remove_rmap_item_from_tree} with the counter rules of spec 7.5. */
  private void removeRmapItemFromTree(int id) {
    byte f = items.flags(id);
    if ((f & RmapItems.STABLE) != 0) {
      int n = items.node(id);
      if (stable.inTree[n] && isStale(n)) {
        pruneStableNode(n);
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
    } else if ((f & RmapItems.UNSTABLE) != 0) {
      int age = (int) ((seqnr - items.seq(id)) & 0xFF);
      if (age > 1) {
        throw new IllegalStateException("rmap_item " + id + " unstable age " + age);
      }
      if (age == 0) {
        unstableErase(id);
      }
      counters.pagesUnshared--;
    }
    items.setFlags(id, (byte) (f & RmapItems.EXISTS));
  }

  private void freeItem(int id) {
    if (items.flags(id) == 0) {
      return;
    }
    removeRmapItemFromTree(id);
    items.setFlags(id, (byte) 0);
    counters.rmapItems--;
  }

  /** The kernel's 32-bit page checksum, derived here from the content fingerprint. */
  static int checksum(long content) {
    long h = Fingerprint.avalanche(content + 17);
    return (int) (h ^ (h >>> 32));
  }

  // ---------------------------------------------------------------- unstable tree

  /**
   * Empties the unstable tree at the start of a pass, sized for the items not in the stable tree.
   */
  private void resetUnstableTree() {
    unstable.reset(Math.max(0, counters.rmapItems - counters.pagesShared - counters.pagesSharing));
  }

  private void dropUnstableTree() {
    unstable.drop();
  }

  /** Slots of the unstable tree's table (for tests). */
  int unstableCapacity() {
    return unstable.capacity();
  }

  /** Ids the rmap_item arrays hold (for tests). */
  long rmapCapacity() {
    return items.capacity();
  }

  private MergeableRegion regionOfId(int id) {
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

  /** The pfn of the anonymous page behind a live unstable item (or -1), setting treeVm/Hva. */
  private int treePageOf(int t) {
    MergeableRegion r = regionOfId(t);
    if (r == null) {
      return -1;
    }
    treeVm = r.vm;
    treeHva = r.hvaOf(t);
    int pfn = pf.ptePfn(treeVm, treeHva);
    return pfn <= 0 ? -1 : pfn; // get_mergeable_page: present and anonymous
  }

  private boolean liveUnstable(int t) {
    return (items.flags(t) & RmapItems.UNSTABLE) != 0 && items.seq(t) == (byte) seqnr;
  }

  /** The unstable tree's view of the items and frames. */
  private final class UnstablePages implements UnstableTree.Pages {
    @Override
    public boolean live(int item) {
      return liveUnstable(item);
    }

    @Override
    public int pageOf(int item) {
      return treePageOf(item);
    }

    @Override
    public long content(int pfn) {
      return pf.frameFingerprint(pfn);
    }
  }

  /**
   * {@code unstable_tree_search_insert}: an item of this pass whose page currently has equal
   * content (its page in treeVm/treeHva/treePfn), or -1 after inserting this item (flags
   * UNSTABLE|seqnr, pages_unshared++). Finding this very frame (a forked page) returns -1 without
   * inserting, as the kernel does.
   */
  private int unstableTreeSearchInsert(int id, int pfn, long content) {
    int t = unstable.searchInsert(id, pfn, content);
    if (t >= 0) {
      treePfn = unstable.foundPfn();
      return t;
    }
    if (t == UnstableTree.SAME_FRAME) {
      return -1;
    }
    items.setFlags(id, (byte) (items.flags(id) | RmapItems.UNSTABLE));
    items.setSeq(id, (byte) seqnr);
    counters.pagesUnshared++;
    return -1;
  }

  /** rb_erase of an item inserted this pass: found by its page's current content, if unchanged. */
  private void unstableErase(int id) {
    MergeableRegion r = regionOfId(id);
    if (r == null) {
      return;
    }
    int pfn = pf.ptePfn(r.vm, r.hvaOf(id));
    if (pfn <= 0) {
      return; // page gone: the stale entry is ignored by liveUnstable once the flag is cleared
    }
    unstable.erase(id, pf.frameFingerprint(pfn));
  }

  // ---------------------------------------------------------------- run = 2

  private void unmergeAndRemoveAllRmapItems() {
    for (MmSlot slot : mmList) {
      for (MergeableRegion r : slot.regions) {
        for (long h = r.start; h < r.end; h++) {
          int pfn = pf.ptePfn(slot.vm, h);
          if (pfn > 0 && pf.isKsmPage(pfn)) {
            pf.breakKsm(slot.vm, h);
          }
        }
        for (int id = r.idBase; id < r.idEnd(); id++) {
          freeItem(id);
        }
      }
    }
    // remove_all_stable_nodes: nodes whose pages are gone
    stable.forEachLive(
        n -> {
          if (isStale(n)) {
            pruneStableNode(n);
          }
        });
    dropUnstableTree();
    atHead = true;
    seqnr = 0;
    rewoundItem = -1;
  }

  // ---------------------------------------------------------------- counters (spec 7.5)

  public long pagesShared() {
    return counters.pagesShared;
  }

  public long pagesSharing() {
    return counters.pagesSharing;
  }

  public long pagesUnshared() {
    return counters.pagesUnshared;
  }

  /** {@code rmap_items - shared - sharing - unshared}, shown as 0 when negative. */
  public long pagesVolatile() {
    return Math.max(
        0,
        counters.rmapItems - counters.pagesShared - counters.pagesSharing - counters.pagesUnshared);
  }

  /** Completed full passes (the scan sequence number). */
  public long fullScans() {
    return seqnr;
  }

  public long rmapItems() {
    return counters.rmapItems;
  }

  /** Copy-on-write breaks of KSM pages (from the page frames). */
  public long cowKsm() {
    return pf.cowKsm();
  }

  /** Nodes in the stable tree, including nodes whose items have all left. */
  public long stableNodes() {
    return stable.liveNodes();
  }

  /** Pages visited by all batches so far (the simulated cost). */
  public long pagesVisited() {
    return counters.pagesVisited;
  }

  /** All counters at once. */
  public KsmStats stats() {
    return new KsmStats(
        counters.pagesShared,
        counters.pagesSharing,
        counters.pagesUnshared,
        pagesVolatile(),
        seqnr,
        counters.rmapItems,
        pf.cowKsm(),
        stable.liveNodes());
  }

  /**
   * {@link #counterViolations()} kept incrementally ({@code --check-invariants}, see {@link
   * KsmAudit} for exactly what each call covers): the counters are compared with a recount at every
   * call, but the recount re-evaluates only the rmap_items and stable nodes changed since the
   * previous call (the first call attaches the audit and evaluates everything). Changes made behind
   * the scanner's back (raw writes) are left to the full {@link #counterViolations()}, which a run
   * calls at its end.
   */
  public List<String> counterViolationsIncremental() {
    if (audit == null) {
      audit = new KsmAudit(items, stable, nextId);
    }
    return audit.check(
        counters.rmapItems, counters.pagesUnshared, counters.pagesShared, counters.pagesSharing);
  }

  /**
   * Recounts the counters from the items and the trees and lists disagreements (empty when
   * consistent); see {@link KsmCounters#violations}.
   */
  public List<String> counterViolations() {
    return counters.violations(items, stable, regionsById);
  }
}
