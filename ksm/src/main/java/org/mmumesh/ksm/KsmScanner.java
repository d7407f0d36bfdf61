package org.mmumesh.ksm;

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
 *   <li><b>mm_slots and the scan cursor</b> ({@link MmList}): the VMs with mergeable regions, in
 *       the order ksmd visits them, and where the current pass stands ({@code ksm_scan}).
 *   <li><b>rmap_items</b>: one per scanned (mm, address), in primitive arrays ({@link RmapItems},
 *       10 bytes per mergeable page), created when ksmd first finds a present anonymous page at the
 *       address and freed when it passes the address and finds none.
 *   <li><b>stable tree</b> ({@link StableTree}, its kernel functions in {@link StableNodes}): nodes
 *       keyed by content, each with its KSM frame ({@code kpfn}) and item count; a node whose frame
 *       was freed is pruned when it is next looked up or one of its items is next removed.
 *   <li><b>unstable tree</b> ({@link UnstableTree}, {@link UnstableNodes}): items of not-yet-merged
 *       pages keyed by their <em>current</em> content, emptied at the start of every full pass, so
 *       it "can become wrong as pages change" just like the kernel's tree (an entry whose page
 *       changed is not found).
 *   <li><b>counters</b> ({@link KsmCounters}, spec 7.5), kept at the kernel's points.
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

  private final PageFrames pf;
  private final WriteProtectGate gate;
  final RmapItems items = new RmapItems();
  final StableTree stable = new StableTree();
  final KsmCounters counters = new KsmCounters();
  private final StableNodes stableNodes;
  final MmList mm = new MmList();
  private final ScanWalk walk = new ScanWalk();

  final UnstableNodes unstable;

  // The page returned by the last scanGetNextRmapItem (its vm and hva: mm.currentVm/Hva).
  private int curPfn;

  // The merge handshake: cmpAndMergePage asks the batch to stop and rewind; the item rewound last.
  private boolean rewind;
  private boolean revisiting;
  int rewoundItem = -1;
  boolean handshakePending;
  long handshakeRewinds;
  long handshakesAbandoned;

  // The incremental counter check, attached by the first counterViolationsIncremental().
  private KsmAudit audit;

  // Controls (spec 7.1).
  long pagesToScan = DEFAULT_PAGES_TO_SCAN;
  long sleepMillisecs = DEFAULT_SLEEP_MILLISECS;
  int run = RUN_STOP;
  long nextBatchNanos;
  long nowNanos;

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
    this.stableNodes = new StableNodes(stable, items, counters, pf);
    this.unstable = new UnstableNodes(items, mm, counters, pf);
  }

  // ---------------------------------------------------------------- checkpoint

  /**
   * ksmd's complete state for a checkpoint (issue 13; see {@link KsmCheckpoint} for what is
   * written). Pure: reads only. Take it between batches; a batch that stopped for a handshake is
   * written with its rewound page, so a restored scanner re-processes it.
   */
  public org.mmumesh.checkpoint.v1.KsmState checkpoint() {
    return KsmCheckpoint.write(this);
  }

  /**
   * A synchronous scanner (as {@link #KsmScanner(PageFrames)}) holding {@code state}, over {@code
   * pageFrames}, which must be the restored frames of the same checkpoint.
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the inconsistent field and
   *     its allowed range (or a recount that disagrees with the counters); nothing is returned then
   */
  public static KsmScanner restore(
      org.mmumesh.checkpoint.v1.KsmState state, PageFrames pageFrames) {
    return restore(state, pageFrames, WriteProtectGate.SYNCHRONOUS);
  }

  /**
   * A scanner with the merge handshake's {@code gate} (as {@link #KsmScanner(PageFrames,
   * WriteProtectGate)}) holding {@code state}.
   *
   * @see #restore(org.mmumesh.checkpoint.v1.KsmState, PageFrames)
   */
  public static KsmScanner restore(
      org.mmumesh.checkpoint.v1.KsmState state, PageFrames pageFrames, WriteProtectGate gate) {
    return KsmCheckpoint.read(state, new KsmScanner(pageFrames, gate), pageFrames);
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
    mm.addMergeable(vm, hvaPage, pages);
    items.ensure(mm.idLimit());
  }

  /**
   * {@code madvise(MADV_UNMERGEABLE)}: breaks every KSM page in the range ({@code
   * unmerge_ksm_pages}) and frees the range's rmap_items at once (counters adjusted).
   */
  public void madviseUnmergeable(int vm, long hvaPage, long pages) {
    checkRange(vm, hvaPage, pages);
    mm.removeMergeable(
        vm,
        hvaPage,
        pages,
        (v, h, id) -> {
          int pfn = pf.ptePfn(v, h);
          if (pfn > 0 && pf.isKsmPage(pfn)) {
            pf.breakKsm(v, h);
          }
          freeItem(id);
        });
  }

  private void checkRange(int vm, long hvaPage, long pages) {
    if (!pf.hasVm(vm)) {
      Checks.inRange("vm", vm, 0, PageFrames.MAX_VM);
      throw new IllegalArgumentException("vm: " + vm + " does not exist in the page frames");
    }
    Checks.inRange("hvaPage", hvaPage, 0, PageFrames.MAX_HVA_PAGE);
    Checks.inRange("pages", pages, 1, PageFrames.MAX_HVA_PAGE + 1 - hvaPage);
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
        cmpAndMergePage(mm.currentVm(), mm.currentHva(), curPfn, id);
        if (rewind) {
          rewind = false;
          mm.rewindTo(mm.currentHva()); // scan_get_next_rmap_item returns this page again
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
    long start = mm.seqnr();
    long target = start + passes;
    while (mm.seqnr() < target && !mm.isEmpty()) {
      scanBatch(Long.MAX_VALUE);
      if (handshakePending) {
        break;
      }
    }
    return (int) (mm.seqnr() - start);
  }

  /** Runs batches until {@code passes} more full scans have completed (for lockstep tests). */
  public void runFullScans(int passes) {
    Checks.inRange("passes", passes, 0, Integer.MAX_VALUE);
    if (run != RUN_MERGE) {
      throw new IllegalStateException("run is " + run + ", not 1");
    }
    long target = mm.seqnr() + passes;
    while (mm.seqnr() < target) {
      if (mm.isEmpty() || pagesToScan == 0) {
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
    int id = mm.next(walk);
    if (id < 0) {
      return -1;
    }
    if (items.flags(id) == 0) {
      items.setFlags(id, RmapItems.EXISTS);
      items.setOldChecksum(id, 0);
      items.setNode(id, 0);
      counters.rmapItems++;
    }
    curPfn = pf.ptePfn(mm.currentVm(), mm.currentHva());
    return id;
  }

  /** What the cursor's walk does to the rmap_items and the unstable tree. */
  private final class ScanWalk implements MmList.Walk {
    @Override
    public void passStarted() {
      unstable.reset();
    }

    @Override
    public long nextAnonPage(int vm, long from, long end) {
      return pf.nextAnonPage(vm, from, end);
    }

    @Override
    public void passed(int from, int to) {
      for (int id = from; id < to; id++) {
        if (items.flags(id) != 0) {
          freeItem(id);
        }
      }
    }

    @Override
    public void passEnded() {
      unstable.drop();
    }
  }

  // ---------------------------------------------------------------- cmp_and_merge_page (7.4)

  private boolean inStableTree(int id) {
    return stableNodes.holds(id);
  }

  private void cmpAndMergePage(int vm, long hva, int pfn, int id) {
    long content = pf.frameFingerprint(pfn);
    // page_stable_node(page): the node of a KSM page is the one keyed by its (immutable) content
    int pageNode = 0;
    if (pf.isKsmPage(pfn)) {
      pageNode = stableNodes.nodeOfKsmPage(pfn, content);
      if (pageNode != 0 && itemNode(id) == pageNode) {
        return;
      }
    }
    int node = stableNodes.search(content);
    int kpfn = node == 0 ? -1 : stableNodes.kpfn(node);
    if (kpfn == pfn && itemNode(id) == node) {
      return;
    }
    removeRmapItemFromTree(id);
    if (node != 0) {
      if (pfn != kpfn && awaitHandshake(vm, hva, pfn, -1, 0, 0)) {
        return;
      }
      if (tryToMergeOnePage(vm, hva, pfn, kpfn)) {
        stableNodes.append(id, node);
      }
      return;
    }
    int cs = checksum(content);
    if (items.oldChecksum(id) != cs) {
      items.setOldChecksum(id, cs);
      return;
    }
    int treeItem = unstable.searchInsert(id, pfn, content);
    if (treeItem < 0) {
      return;
    }
    int treeVm = unstable.foundVm();
    long treeHva = unstable.foundHva();
    int treePfn = unstable.foundPfn();
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
    int newNode = stableNodes.insert(pfn, content);
    if (newNode != 0) {
      stableNodes.append(treeItem, newNode);
      stableNodes.append(id, newNode);
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

  /** {@code remove_rmap_item_from_tree} with the counter rules of spec 7.5. */
  private void removeRmapItemFromTree(int id) {
    byte f = items.flags(id);
    if ((f & RmapItems.STABLE) != 0) {
      stableNodes.removeItem(id);
    } else if ((f & RmapItems.UNSTABLE) != 0) {
      int age = (int) ((mm.seqnr() - items.seq(id)) & 0xFF);
      if (age > 1) {
        throw new IllegalStateException("rmap_item " + id + " unstable age " + age);
      }
      if (age == 0) {
        unstable.erase(id);
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

  /** Slots of the unstable tree's table (for tests). */
  int unstableCapacity() {
    return unstable.capacity();
  }

  /** Ids the rmap_item arrays hold (for tests). */
  long rmapCapacity() {
    return items.capacity();
  }

  // ---------------------------------------------------------------- run = 2

  private void unmergeAndRemoveAllRmapItems() {
    for (MmList.MmSlot slot : mm.slots()) {
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
    stableNodes.pruneStale();
    unstable.drop();
    mm.resetCursor();
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
    return mm.seqnr();
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
        mm.seqnr(),
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
      audit = new KsmAudit(items, stable, mm.idLimit());
    }
    return audit.check(
        counters.rmapItems, counters.pagesUnshared, counters.pagesShared, counters.pagesSharing);
  }

  /**
   * Recounts the counters from the items and the trees and lists disagreements (empty when
   * consistent); see {@link KsmCounters#violations}.
   */
  public List<String> counterViolations() {
    return counters.violations(items, stable, mm.regionsById());
  }
}
