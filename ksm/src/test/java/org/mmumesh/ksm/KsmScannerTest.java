package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;

/** KsmScanner against spec section 7 and the 8.7 vectors. */
class KsmScannerTest {
  private static final long A = 0xA0A0_A0A0_1234_5678L;
  private PageFrames pf;
  private KsmScanner ksm;
  private final List<long[]> invalidations = new ArrayList<>();

  @BeforeEach
  void setUp() {
    pf = new PageFrames();
    pf.addNotifierListener((vm, g0, g1) -> invalidations.add(new long[] {vm, g0, g1}));
    ksm = new KsmScanner(pf);
  }

  /** A VM whose gfn n is host page n, {@code pages} pages, all mergeable. */
  private void vm(int vm, int pages) {
    pf.createVm(vm);
    pf.addSlot(vm, 0, 0, pages, 0, false);
    ksm.madviseMergeable(vm, 0, pages);
  }

  private long[] counters() {
    return new long[] {
      ksm.pagesShared(),
      ksm.pagesSharing(),
      ksm.pagesUnshared(),
      ksm.rmapItems(),
      ksm.pagesVolatile()
    };
  }

  private void checkAll() {
    assertThat(pf.invariantViolations()).isEmpty();
    assertThat(ksm.counterViolations()).isEmpty();
  }

  @Test
  void threeIdenticalPages_pass1StoresChecksums_TV53_pass2Merges_TV54_TV55_loadsKeepSharing_TV56() {
    vm(0, 3);
    for (int g = 0; g < 3; g++) {
      pf.populate(0, g, A);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    assertThat(ksm.runBatch()).isEqualTo(3);
    assertThat(ksm.fullScans()).isEqualTo(1);
    assertThat(counters()).containsExactly(0, 0, 0, 3, 3); // TV53
    invalidations.clear();
    ksm.runBatch();
    assertThat(ksm.fullScans()).isEqualTo(2);
    assertThat(counters()).containsExactly(1, 2, 0, 3, 0); // TV54
    // TV55: the merges sent notifier events (write-protect + replace) covering P1..P3
    assertThat(invalidations).isNotEmpty();
    assertThat(invalidations.stream().mapToLong(e -> e[1]).distinct().count()).isEqualTo(3);
    int k = pf.ptePfn(0, 0);
    assertThat(pf.ptePfn(0, 1)).isEqualTo(k);
    assertThat(pf.ptePfn(0, 2)).isEqualTo(k);
    assertThat(pf.isKsmPage(k)).isTrue();
    assertThat(pf.framesSavedByKsm()).isEqualTo(2);
    // TV56: post-commit guest loads map K read-only, counters unchanged
    for (int g = 0; g < 3; g++) {
      PfnResult r = pf.gfnToPfnProt(0, g, false);
      assertThat(r.pfn()).isEqualTo(k);
      assertThat(r.writable()).isFalse();
    }
    ksm.runBatch();
    assertThat(counters()).containsExactly(1, 2, 0, 3, 0);
    assertThat(pf.cowKsm()).isZero();
    checkAll();
  }

  @Test
  void legacyWriteFaultOnLoad_unsharesThenRemerges_TV54pathology() {
    vm(0, 3);
    for (int g = 0; g < 3; g++) {
      pf.populate(0, g, A);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    // pre-commit: a load asks gfn_to_pfn for write access -> COW of the KSM page
    pf.gfnToPfnProt(0, 1, true);
    assertThat(pf.cowKsm()).isEqualTo(1);
    assertThat(counters()).containsExactly(1, 2, 0, 3, 0); // lag: counters unchanged
    assertThat(pf.framesSavedByKsm()).isEqualTo(1);
    ksm.runBatch(); // revisit: stable search hits at once, re-merge
    assertThat(counters()).containsExactly(1, 2, 0, 3, 0);
    assertThat(pf.framesSavedByKsm()).isEqualTo(2);
    checkAll();
  }

  @Test
  void nIdenticalVms_convergeToSharingNminus1TimesPages() {
    int n = 4;
    int pages = 10;
    for (int v = 0; v < n; v++) {
      vm(v, pages);
      for (int g = 0; g < pages; g++) {
        pf.populate(v, g, 1000 + g);
      }
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.setPagesToScan(7);
    ksm.runFullScans(3);
    assertThat(ksm.pagesShared()).isEqualTo(pages);
    assertThat(ksm.pagesSharing()).isEqualTo((long) (n - 1) * pages);
    assertThat(ksm.pagesUnshared()).isZero();
    assertThat(pf.framesSaved()).isEqualTo((long) (n - 1) * pages);
    checkAll();
  }

  @Test
  void fourProcessExample_convergesTo12Shared16Sharing4Unshared() {
    // A0-7 = B0-7, C0-3 = A0-3, D4-7 = C4-7, D0-3 unique; 8 pages each
    for (int v = 0; v < 4; v++) {
      vm(v, 8);
    }
    for (int i = 0; i < 8; i++) {
      long x = 100 + i;
      long y = 200 + i;
      pf.populate(0, i, x);
      pf.populate(1, i, x);
      pf.populate(2, i, i < 4 ? x : y);
      pf.populate(3, i, i < 4 ? 300 + i : y);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(4);
    assertThat(ksm.pagesShared()).isEqualTo(12);
    assertThat(ksm.pagesSharing()).isEqualTo(16);
    assertThat(ksm.pagesUnshared()).isEqualTo(4);
    assertThat(ksm.pagesVolatile()).isZero();
    assertThat(pf.framesSavedByKsm()).isEqualTo(16);
    checkAll();
  }

  @Test
  void writeToMergedPage_cowsAtOnce_countersLagUntilRevisit() {
    vm(0, 3);
    for (int g = 0; g < 3; g++) {
      pf.populate(0, g, A);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    PfnResult w = pf.gfnToPfnProt(0, 2, true);
    pf.store(0, 2, 0, 99);
    assertThat(pf.cowKsm()).isEqualTo(1);
    assertThat(pf.isKsmPage(w.pfn())).isFalse();
    assertThat(counters()).containsExactly(1, 2, 0, 3, 0); // unchanged: ksmd has not been back
    ksm.setPagesToScan(2);
    ksm.runBatch(); // visits P1, P2 only
    assertThat(counters()).containsExactly(1, 2, 0, 3, 0);
    ksm.setPagesToScan(1);
    ksm.runBatch(); // P3: leaves the node, its new checksum is stored
    assertThat(counters()).containsExactly(1, 1, 0, 3, 1);
    checkAll();
  }

  @Test
  void volatilePages_changingEveryPass_neverMerge() {
    vm(0, 4);
    for (int g = 0; g < 4; g++) {
      pf.populate(0, g, A);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    for (int pass = 0; pass < 6; pass++) {
      for (int g = 0; g < 4; g++) {
        pf.gfnToPfnProt(0, g, true);
        pf.store(0, g, 0, pass); // all four equal, but different every pass
      }
      ksm.runFullScans(1);
      assertThat(ksm.pagesShared()).isZero();
      assertThat(ksm.pagesSharing()).isZero();
      assertThat(ksm.pagesVolatile()).isEqualTo(4);
    }
    assertThat(pf.framesSavedByKsm()).isZero();
    checkAll();
  }

  @Test
  void run2_unmergesEverything_framesSavedDrops_fullScansReset() {
    vm(0, 6);
    for (int g = 0; g < 6; g++) {
      pf.populate(0, g, A);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(pf.framesSaved()).isEqualTo(5);
    ksm.setRun(KsmScanner.RUN_UNMERGE);
    assertThat(pf.framesSaved()).isZero();
    assertThat(pf.cowKsm()).isEqualTo(6);
    assertThat(counters()).containsExactly(0, 0, 0, 0, 0);
    assertThat(ksm.fullScans()).isZero();
    assertThat(ksm.stableNodes()).isZero();
    assertThat(ksm.runBatch()).isZero(); // stopped
    checkAll();
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(pf.framesSaved()).isEqualTo(5);
    checkAll();
  }

  @Test
  void staleStableNode_isPrunedAfterItsFrameIsFreed() {
    vm(0, 3);
    pf.populate(0, 0, A);
    pf.populate(0, 1, A);
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(ksm.stableNodes()).isEqualTo(1);
    int k = pf.ptePfn(0, 0);
    // both mappings written: the KSM frame is freed; counters still count the node (lag)
    for (int g = 0; g < 2; g++) {
      pf.gfnToPfnProt(0, g, true);
      pf.store(0, g, 8, g);
    }
    assertThat(pf.isLiveFrame(k)).isFalse();
    assertThat(ksm.pagesShared()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    // a new page with content A, merging candidate reuses nothing of the stale node
    pf.populate(0, 2, A);
    ksm.setPagesToScan(1);
    ksm.runBatch(); // visits P1: its node is stale -> pruned, both items leave it
    assertThat(ksm.stableNodes()).isZero();
    assertThat(ksm.pagesShared()).isZero();
    assertThat(ksm.pagesSharing()).isZero();
    checkAll();
  }

  @Test
  void staleNode_foundBySearch_isPrunedAndContentMergesAfresh() {
    vm(0, 4);
    pf.populate(0, 0, A);
    pf.populate(0, 1, A);
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    pf.zapPages(0, 0, 2); // last mappings of the KSM page go away: frame freed
    assertThat(ksm.stableNodes()).isEqualTo(1);
    pf.populate(0, 2, A);
    pf.populate(0, 3, A);
    ksm.runFullScans(1); // old items freed (no page), P3 lookup prunes the stale node
    assertThat(ksm.stableNodes()).isZero();
    assertThat(ksm.rmapItems()).isEqualTo(2);
    ksm.runFullScans(1);
    assertThat(ksm.pagesShared()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    checkAll();
  }

  @Test
  void pinnedPage_failsWriteProtect_andIsNotMerged() {
    vm(0, 2);
    pf.populate(0, 0, A);
    pf.populate(0, 1, A);
    pf.pinFrame(pf.ptePfn(0, 0));
    pf.pinFrame(pf.ptePfn(0, 1));
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(3);
    assertThat(ksm.pagesShared()).isZero();
    assertThat(pf.framesSaved()).isZero();
    checkAll();
  }

  @Test
  void newPageFirstSeenInPassN_mergesAtEarliestInPassNplus1() {
    vm(0, 2);
    pf.populate(0, 0, A);
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(3);
    pf.populate(0, 1, A); // first seen in pass 4
    ksm.runFullScans(1);
    assertThat(ksm.pagesShared()).isZero();
    ksm.runFullScans(1);
    assertThat(ksm.pagesShared()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
  }

  @Test
  void zeroPageMappings_areNotScanned() {
    vm(0, 4);
    for (int g = 0; g < 4; g++) {
      pf.gfnToPfnProt(0, g, false);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(ksm.rmapItems()).isZero();
    assertThat(ksm.pagesVisited()).isZero();
  }

  @Test
  void vanishedPages_haveTheirRmapItemsFreed() {
    vm(0, 4);
    for (int g = 0; g < 4; g++) {
      pf.populate(0, g, g);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(ksm.rmapItems()).isEqualTo(4);
    assertThat(ksm.pagesUnshared()).isEqualTo(4);
    pf.zapPages(0, 1, 3);
    ksm.runFullScans(1);
    assertThat(ksm.rmapItems()).isEqualTo(1);
    assertThat(ksm.pagesUnshared()).isEqualTo(1);
    checkAll();
  }

  @Test
  void madviseUnmergeable_breaksKsmPagesAndFreesItems() {
    vm(0, 4);
    for (int g = 0; g < 4; g++) {
      pf.populate(0, g, A);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(ksm.pagesSharing()).isEqualTo(3);
    ksm.madviseUnmergeable(0, 2, 2);
    assertThat(ksm.rmapItems()).isEqualTo(2);
    assertThat(ksm.pagesShared()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    assertThat(pf.framesSaved()).isEqualTo(1);
    checkAll();
    ksm.runFullScans(2);
    assertThat(ksm.rmapItems()).isEqualTo(2);
    checkAll();
  }

  @Test
  void advanceTo_runsOneBatchPerSleepPeriod_inSimulatedTime() {
    vm(0, 1000);
    for (int g = 0; g < 1000; g++) {
      pf.populate(0, g, g);
    }
    ksm.advanceTo(100_000_000L); // run = 0: nothing
    assertThat(ksm.pagesVisited()).isZero();
    ksm.setRun(KsmScanner.RUN_MERGE); // ksmd wakes at once
    long next = ksm.nextBatchNanos();
    assertThat(next).isEqualTo(100_000_000L);
    long visited = ksm.advanceTo(next + 2 * 20_000_000L); // three batches due: +0, +20, +40 ms
    assertThat(visited).isEqualTo(300);
    assertThat(ksm.pagesVisited()).isEqualTo(300);
    assertThat(ksm.nextBatchNanos()).isEqualTo(next + 3 * 20_000_000L);
    ksm.setSleepMillisecs(50);
    assertThat(ksm.nextBatchNanos()).isEqualTo(next + 2 * 20_000_000L + 50_000_000L);
    assertThat(ksm.advanceTo(next + 2 * 20_000_000L + 49_000_000L)).isZero();
    assertThatThrownBy(() -> ksm.advanceTo(0)).hasMessageContaining("simNanos");
  }

  @Test
  void controls_rejectBadInput_namingFieldAndRange() {
    assertThatThrownBy(() -> ksm.setRun(3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("run")
        .hasMessageContaining("0 to 2");
    assertThatThrownBy(() -> ksm.setPagesToScan(-1)).hasMessageContaining("pages_to_scan");
    assertThatThrownBy(() -> ksm.setPagesToScan(1L << 32)).hasMessageContaining("4294967295");
    assertThatThrownBy(() -> ksm.setSleepMillisecs(0)).hasMessageContaining("sleep_millisecs");
    assertThatThrownBy(() -> ksm.madviseMergeable(9, 0, 1)).hasMessageContaining("vm");
    assertThat(ksm.pagesToScan()).isEqualTo(100);
    assertThat(ksm.sleepMillisecs()).isEqualTo(20);
    assertThat(ksm.run()).isZero();
  }

  @Test
  void counterChecker_detectsACorruptedCounter() throws Exception {
    vm(0, 2);
    pf.populate(0, 0, A);
    pf.populate(0, 1, A);
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.runFullScans(2);
    assertThat(ksm.counterViolations()).isEmpty();
    java.lang.reflect.Field f = KsmScanner.class.getDeclaredField("counters");
    f.setAccessible(true);
    ((KsmCounters) f.get(ksm)).pagesSharing = 5;
    assertThat(ksm.counterViolations()).anyMatch(v -> v.contains("sharing 5/1"));
  }
}
