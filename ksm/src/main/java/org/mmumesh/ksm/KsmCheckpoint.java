package org.mmumesh.ksm;

import java.util.List;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.KsmControlsState;
import org.mmumesh.checkpoint.v1.KsmCountersState;
import org.mmumesh.checkpoint.v1.KsmHandshakeState;
import org.mmumesh.checkpoint.v1.KsmState;
import org.mmumesh.pageframe.PageFrames;

/**
 * Writes a {@link KsmScanner} to a {@link KsmState} and builds one back (issue 13).
 *
 * <h2>What is written</h2>
 *
 * The controls and the simulated schedule; the mm_slots with their regions, the cursor ({@code
 * ksm_scan}: slot, region, page, {@code seqnr}) and the page it returned last ({@link MmList}); the
 * rmap_items (checksum, node, flags and pass byte per id, 10 bytes; {@link RmapItems}); the stable
 * tree's node arrays with its free list and its hash table as it is ({@link StableTree}); the
 * unstable tree's hash table as it is, tombstones included, so a restore in the middle of a pass
 * finds the same partner pages in the same probe order ({@link UnstableTree}); the counters; the
 * handshake's rewound item, pending flag and counts.
 *
 * <h2>Not written (wiring, derived or scratch)</h2>
 *
 * The page frames and the write-protect gate (given to {@link KsmScanner#restore}); the parts that
 * only hold references to the others ({@link StableNodes}, {@link UnstableNodes}' collaborators,
 * the scan walk); the incremental audit (re-attached on first use); the mm list's by-id index
 * (rebuilt from the regions); array capacities; and scratch values set and read within one call
 * ({@code curPfn}, {@code rewind} and {@code revisiting}, which a batch clears before it returns,
 * the unstable tree's last found page).
 */
final class KsmCheckpoint {
  private KsmCheckpoint() {}

  static KsmState write(KsmScanner k) {
    int ids = k.mm.idLimit();
    return KsmState.newBuilder()
        .setControls(
            KsmControlsState.newBuilder()
                .setPagesToScan(k.pagesToScan)
                .setSleepMillisecs(k.sleepMillisecs)
                .setRun(k.run)
                .setNextBatchNanos(k.nextBatchNanos)
                .setNowNanos(k.nowNanos))
        .setMmList(k.mm.checkpoint())
        .setRmapItems(k.items.checkpoint(ids))
        .setStableTree(k.stable.checkpoint())
        .setUnstableTree(k.unstable.tree().checkpoint())
        .setCounters(
            KsmCountersState.newBuilder()
                .setPagesShared(k.counters.pagesShared)
                .setPagesSharing(k.counters.pagesSharing)
                .setPagesUnshared(k.counters.pagesUnshared)
                .setRmapItems(k.counters.rmapItems)
                .setPagesVisited(k.counters.pagesVisited))
        .setHandshake(
            KsmHandshakeState.newBuilder()
                .setRewoundItem(k.rewoundItem)
                .setHandshakePending(k.handshakePending)
                .setHandshakeRewinds(k.handshakeRewinds)
                .setHandshakesAbandoned(k.handshakesAbandoned))
        .build();
  }

  static KsmScanner read(KsmState s, KsmScanner k, PageFrames pf) {
    KsmControlsState c = s.getControls();
    CheckpointMismatchException.checkRange(
        "controls.pages_to_scan", c.getPagesToScan(), 0, KsmScanner.UINT_MAX);
    CheckpointMismatchException.checkRange(
        "controls.sleep_millisecs", c.getSleepMillisecs(), 1, KsmScanner.UINT_MAX);
    CheckpointMismatchException.checkRange(
        "controls.run", c.getRun(), KsmScanner.RUN_STOP, KsmScanner.RUN_UNMERGE);
    CheckpointMismatchException.checkRange(
        "controls.now_nanos", c.getNowNanos(), 0, Long.MAX_VALUE);
    k.pagesToScan = c.getPagesToScan();
    k.sleepMillisecs = c.getSleepMillisecs();
    k.run = c.getRun();
    k.nextBatchNanos = c.getNextBatchNanos();
    k.nowNanos = c.getNowNanos();
    k.mm.restore(s.getMmList(), pf::hasVm);
    int ids = k.mm.idLimit();
    k.stable.restore(s.getStableTree());
    k.items.restore(s.getRmapItems(), ids, s.getStableTree().getNodeTop());
    k.unstable.tree().restore(s.getUnstableTree(), ids);
    KsmCountersState cs = s.getCounters();
    k.counters.pagesShared = cs.getPagesShared();
    k.counters.pagesSharing = cs.getPagesSharing();
    k.counters.pagesUnshared = cs.getPagesUnshared();
    k.counters.rmapItems = cs.getRmapItems();
    k.counters.pagesVisited = cs.getPagesVisited();
    KsmHandshakeState h = s.getHandshake();
    CheckpointMismatchException.checkRange(
        "handshake.rewound_item", h.getRewoundItem(), -1, ids - 1L);
    k.rewoundItem = h.getRewoundItem();
    k.handshakePending = h.getHandshakePending();
    k.handshakeRewinds = h.getHandshakeRewinds();
    k.handshakesAbandoned = h.getHandshakesAbandoned();
    List<String> bad = k.counterViolations();
    if (!bad.isEmpty()) {
      throw new CheckpointMismatchException(
          "counters, rmap_items, stable_tree: the counters disagree with a recount: " + bad);
    }
    return k;
  }
}
