package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.PageFrames;

/** Memory held by the scanner: rmap_item arrays sized to the need, unstable tree only in a pass. */
class KsmMemoryTest {
  private static final int CHUNK = RmapItems.CHUNK;

  @Test
  void rmapItems_holdNoMoreThanTheMergeableIds_plusHalfTheLastChunk() {
    PageFrames pf = new PageFrames();
    KsmScanner ksm = new KsmScanner(pf);
    long total = 0;
    for (int vm = 0; vm < 5; vm++) {
      int pages = 3 * CHUNK / 2 + vm; // not a multiple of the chunk
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, pages, 0, false);
      ksm.madviseMergeable(vm, 0, pages);
      total += pages;
      assertThat(ksm.rmapCapacity()).isBetween(total, total + CHUNK / 2);
    }
    // arrays grown by half each time would hold 1.5x; chunks leave only part of the last one
    assertThat(ksm.rmapCapacity()).isLessThan(total + CHUNK);
  }

  @Test
  void rmapItems_smallRegions_growTheLastChunkOnly() {
    RmapItems items = new RmapItems();
    items.ensure(10);
    assertThat(items.capacity()).isEqualTo(10);
    items.setFlags(9, RmapItems.EXISTS);
    items.setNode(9, 77);
    items.ensure(12);
    assertThat(items.capacity()).isEqualTo(15); // grown by half
    assertThat(items.flags(9)).isEqualTo(RmapItems.EXISTS); // kept across the copy
    assertThat(items.node(9)).isEqualTo(77);
    items.ensure(CHUNK + 5);
    assertThat(items.capacity()).isEqualTo(CHUNK + 5);
    items.setOldChecksum(CHUNK + 4, 3);
    items.setSeq(CHUNK + 4, (byte) 2);
    assertThat(items.oldChecksum(CHUNK + 4)).isEqualTo(3);
    assertThat(items.seq(CHUNK + 4)).isEqualTo((byte) 2);
    assertThat(items.flags(CHUNK + 4)).isZero();
    items.ensure(3);
    assertThat(items.capacity()).isEqualTo(CHUNK + 5); // never shrinks below the need
  }

  @Test
  void unstableTree_isSizedForUnmergedItemsInAPass_andDroppedWhenThePassEnds() {
    PageFrames pf = new PageFrames();
    KsmScanner ksm = new KsmScanner(pf);
    int pages = 20_000;
    for (int vm = 0; vm < 2; vm++) {
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, pages, 0, false);
      ksm.madviseMergeable(vm, 0, pages);
      for (int g = 0; g < pages; g++) {
        pf.populate(vm, g, 0x5000_0000L + g); // the two VMs hold the same contents
      }
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.setPagesToScan(1000);
    int min = ksm.unstableCapacity();
    ksm.runFullScans(1); // pass 1: items created, checksums recorded
    assertThat(ksm.rmapItems()).isEqualTo(2L * pages);
    assertThat(ksm.unstableCapacity()).isEqualTo(min);
    ksm.runBatch(); // pass 2 starts: sized for every unmerged item
    assertThat(ksm.unstableCapacity()).isGreaterThanOrEqualTo(2 * pages);
    ksm.runFullScans(1); // pass 2 ends: everything merged
    assertThat(ksm.pagesShared()).isEqualTo(pages);
    assertThat(ksm.pagesSharing()).isEqualTo(pages);
    assertThat(ksm.unstableCapacity()).isEqualTo(min);
    ksm.runBatch(); // pass 3: nothing left to insert, the table stays small
    assertThat(ksm.unstableCapacity()).isEqualTo(min);
    ksm.runFullScans(1);
    assertThat(ksm.pagesShared()).isEqualTo(pages);
    assertThat(ksm.counterViolations()).isEmpty();
    assertThat(pf.invariantViolations()).isEmpty();
  }

  @Test
  void unstableTree_growsDuringAPass_whenMergedItemsLeaveTheStableTree() {
    PageFrames pf = new PageFrames();
    KsmScanner ksm = new KsmScanner(pf);
    int pages = 4000;
    for (int vm = 0; vm < 2; vm++) {
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, pages, 0, false);
      ksm.madviseMergeable(vm, 0, pages);
      for (int g = 0; g < pages; g++) {
        pf.populate(vm, g, 0x7000_0000L + g);
      }
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.setPagesToScan(100);
    ksm.runFullScans(2);
    assertThat(ksm.pagesSharing()).isEqualTo(pages);
    ksm.runBatch(); // pass 3 starts with no candidates: minimum table
    int min = ksm.unstableCapacity();
    // the guests now rewrite every page with the same contents: private copies, the KSM frames are
    // freed, so each item finds its stable node stale and goes into the unstable tree, in this pass
    for (int vm = 0; vm < 2; vm++) {
      for (int g = 0; g < pages; g++) {
        pf.populate(vm, g, 0x7000_0000L + g);
      }
    }
    int most = min;
    while (ksm.fullScans() == 2) {
      ksm.runBatch();
      most = Math.max(most, ksm.unstableCapacity());
    }
    assertThat(most).isGreaterThanOrEqualTo(pages); // grown within the pass
    assertThat(ksm.unstableCapacity()).isEqualTo(min); // and dropped at its end
    ksm.runFullScans(2);
    assertThat(ksm.pagesShared()).isEqualTo(pages);
    assertThat(ksm.pagesSharing()).isEqualTo(pages);
    assertThat(ksm.unstableCapacity()).isEqualTo(min);
    assertThat(ksm.counterViolations()).isEmpty();
    assertThat(pf.invariantViolations()).isEmpty();
  }
}
