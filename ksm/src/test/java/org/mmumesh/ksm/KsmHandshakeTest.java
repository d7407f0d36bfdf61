package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.PageFrames;

/**
 * The gated {@link KsmScanner} (the merge handshake of architecture section 4, {@link
 * WriteProtectGate}): write-protect first, merge only after the acks, and only if the content is
 * still the same.
 */
class KsmHandshakeTest {
  private static final long A = 0xA0A0_A0A0_1234_5678L;
  private PageFrames pf;
  private KsmScanner ksm;

  /** VM 0 with two pages of content A, both mergeable; invalidations tracked (acks owed). */
  @BeforeEach
  void setUp() {
    pf = new PageFrames();
    pf.trackInvalidations(vm -> true);
    ksm = new KsmScanner(pf, pf::invalidationPending);
    pf.createVm(0);
    pf.addSlot(0, 0, 0, 2, 0, false);
    ksm.madviseMergeable(0, 0, 2);
    pf.populate(0, 0, A);
    pf.populate(0, 1, A);
    ksm.setRun(KsmScanner.RUN_MERGE);
    assertThat(ksm.scanBatch(100)).isEqualTo(2); // pass 1: checksums only
    assertThat(ksm.handshakePending()).isFalse();
  }

  /** Pass 2 up to the handshake: page 0 enters the unstable tree, page 1 finds it and waits. */
  private void scanUntilHandshake() {
    assertThat(ksm.scanBatch(100)).isEqualTo(1); // the rewound page is not counted
    assertThat(ksm.handshakePending()).isTrue();
    assertThat(pf.pteWritable(0, 0)).isFalse();
    assertThat(pf.pteWritable(0, 1)).isFalse();
    assertThat(pf.invalidationPending(0, 0)).isTrue();
    assertThat(pf.invalidationPending(0, 1)).isTrue();
  }

  @Test
  void pendingHandshake_writeProtectsBothPages_mergesNothing_untilAcked_thenMerges() {
    int p0 = pf.ptePfn(0, 0);
    int p1 = pf.ptePfn(0, 1);
    scanUntilHandshake();
    assertThat(pf.ptePfn(0, 0)).isEqualTo(p0);
    assertThat(pf.ptePfn(0, 1)).isEqualTo(p1);
    assertThat(pf.isKsmPage(p0) || pf.isKsmPage(p1)).isFalse();
    assertThat(ksm.pagesSharing()).isZero();
    assertThat(ksm.handshakeRewinds()).isEqualTo(1);

    pf.completeInvalidations(); // the host MMUs acknowledged
    long seq = pf.notifierSeq(0);
    assertThat(ksm.scanBatch(100)).isEqualTo(1);
    assertThat(ksm.handshakePending()).isFalse();
    assertThat(ksm.fullScans()).isEqualTo(2);
    assertThat(ksm.pagesShared()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    assertThat(pf.ptePfn(0, 0)).isEqualTo(pf.ptePfn(0, 1));
    assertThat(pf.isKsmPage(pf.ptePfn(0, 0))).isTrue();
    assertThat(pf.notifierSeq(0)).isEqualTo(seq + 1); // only the replace: no second write-protect
    assertThat(ksm.pagesVisited()).isEqualTo(4); // 2 passes x 2 pages, the rewound page once
    assertThat(ksm.counterViolations()).isEmpty();
    assertThat(pf.invariantViolations()).isEmpty();
  }

  @Test
  void storeToTheTreePageBeforeTheAck_noMerge() {
    int p0 = pf.ptePfn(0, 0);
    scanUntilHandshake();
    pf.storeFrame(p0, 0, 42); // a vCPU still holding a writable shadow mapping stores
    pf.completeInvalidations();
    ksm.scanBatch(100);
    assertThat(ksm.pagesSharing()).isZero();
    assertThat(ksm.pagesShared()).isZero();
    assertThat(pf.ptePfn(0, 0)).isNotEqualTo(pf.ptePfn(0, 1));
    assertThat(pf.isKsmPage(pf.ptePfn(0, 0)) || pf.isKsmPage(pf.ptePfn(0, 1))).isFalse();
    assertThat(ksm.counterViolations()).isEmpty();
  }

  @Test
  void storeToTheScannedPageBeforeTheAck_noMerge_itIsVolatileAgain() {
    int p1 = pf.ptePfn(0, 1);
    scanUntilHandshake();
    pf.storeFrame(p1, 8, 7);
    pf.completeInvalidations();
    ksm.scanBatch(100);
    assertThat(ksm.pagesSharing()).isZero();
    assertThat(pf.ptePfn(0, 1)).isEqualTo(p1);
    assertThat(pf.isKsmPage(p1)).isFalse();
    assertThat(ksm.pagesVolatile()).isEqualTo(1); // the checksum changed: volatile this round
  }

  @Test
  void handshakeStillOutstandingWhenReprocessed_mergeAbandonedForThePass_batchGoesOn() {
    scanUntilHandshake();
    // nobody acknowledged: the page is re-processed, must not be rewound again
    assertThat(ksm.scanBatch(100)).isEqualTo(1);
    assertThat(ksm.handshakePending()).isFalse();
    assertThat(ksm.handshakesAbandoned()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isZero();
    assertThat(ksm.fullScans()).isEqualTo(2);
    // once acknowledged, the next pass merges
    pf.completeInvalidations();
    ksm.scanBatch(100);
    ksm.scanBatch(100);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    assertThat(ksm.counterViolations()).isEmpty();
  }

  @Test
  void untrackedHost_gatedScannerMergesInOneVisit() {
    pf.trackInvalidations(null);
    assertThat(ksm.scanBatch(100)).isEqualTo(2);
    assertThat(ksm.handshakePending()).isFalse();
    assertThat(ksm.pagesSharing()).isEqualTo(1);
  }

  @Test
  void scanFullPasses_stopsAtHandshakes_andCountsPassesAcrossCalls() {
    int passes = 0;
    int calls = 0;
    while (passes < 2) {
      passes += ksm.scanFullPasses(2 - passes);
      calls++;
      if (ksm.handshakePending()) {
        pf.completeInvalidations();
      }
    }
    assertThat(calls).isEqualTo(2);
    assertThat(ksm.fullScans()).isEqualTo(3);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
  }
}
