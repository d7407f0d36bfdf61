package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.pageframe.PageFrames;

/**
 * {@link KsmScanner#counterViolationsIncremental()}: agrees with the full recount along a random
 * history, finds a corrupted counter or item at the next call, and leaves a raw corruption of an
 * untouched node to the full recount.
 */
class KsmAuditTest {
  private final PageFrames pf = new PageFrames();
  private final KsmScanner ksm = new KsmScanner(pf);

  /** Three VMs of 64 pages: 16 contents repeated, so ksmd merges plenty; two passes done. */
  KsmAuditTest() {
    for (int vm = 0; vm < 3; vm++) {
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, 64, 0, false);
      ksm.madviseMergeable(vm, 0, 64);
      for (int g = 0; g < 64; g++) {
        pf.populate(vm, g, Fingerprint.avalanche(g % 16));
      }
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.setPagesToScan(50);
    assertThat(ksm.counterViolationsIncremental()).isEmpty();
    ksm.runFullScans(2);
    assertThat(ksm.pagesSharing()).isPositive();
    assertThat(ksm.counterViolationsIncremental()).isEmpty();
  }

  private StableTree stable() throws Exception {
    Field f = KsmScanner.class.getDeclaredField("stable");
    f.setAccessible(true);
    return (StableTree) f.get(ksm);
  }

  private RmapItems items() throws Exception {
    Field f = KsmScanner.class.getDeclaredField("items");
    f.setAccessible(true);
    return (RmapItems) f.get(ksm);
  }

  /** An item that is in the stable tree (its id). */
  private int stableItem() throws Exception {
    for (int id = 0; ; id++) {
      if ((items().flags(id) & RmapItems.STABLE) != 0) {
        return id;
      }
    }
  }

  @Test
  void randomHistory_incrementalAgreesWithTheFullRecount_atEveryStep() {
    Random rnd = new Random(7);
    for (int step = 0; step < 300; step++) {
      int vm = rnd.nextInt(3);
      int g = rnd.nextInt(64);
      switch (rnd.nextInt(5)) {
        case 0 -> {
          pf.gfnToPfnProt(vm, g, true); // a COW break of a merged page
          pf.store(vm, g, 0, rnd.nextInt(4));
        }
        case 1 -> ksm.madviseUnmergeable(vm, g, 1 + rnd.nextInt(4));
        case 2 -> ksm.madviseMergeable(vm, 0, 64);
        default -> ksm.runBatch();
      }
      assertThat(ksm.counterViolationsIncremental()).as("step %d", step).isEmpty();
      assertThat(ksm.counterViolations()).as("step %d", step).isEmpty();
    }
    ksm.setRun(KsmScanner.RUN_UNMERGE);
    assertThat(ksm.counterViolationsIncremental()).isEmpty();
  }

  @Test
  void eachCounterOffByOne_isFoundAtTheNextCheck_andUntilRepaired() throws Exception {
    Field kept = KsmScanner.class.getDeclaredField("counters");
    kept.setAccessible(true);
    KsmCounters counters = (KsmCounters) kept.get(ksm);
    for (String counter : new String[] {"pagesShared", "pagesSharing", "pagesUnshared"}) {
      Field f = KsmCounters.class.getDeclaredField(counter);
      ksm.runBatch(); // events since the last check
      f.setLong(counters, f.getLong(counters) + 1);
      assertThat(ksm.counterViolationsIncremental()).as(counter).hasSize(1);
      assertThat(ksm.counterViolationsIncremental()).as(counter).hasSize(1);
      f.setLong(counters, f.getLong(counters) - 1);
      assertThat(ksm.counterViolationsIncremental()).as(counter).isEmpty();
    }
    counters.rmapItems--;
    assertThat(ksm.counterViolationsIncremental()).anyMatch(v -> v.contains("rmap_items"));
  }

  @Test
  void stableItemLosingItsFlag_isFoundAtTheNextCheck() throws Exception {
    int id = stableItem();
    int node = items().node(id);
    items().setFlags(id, RmapItems.EXISTS); // through the item arrays' setter, counters untouched
    assertThat(ksm.counterViolationsIncremental())
        .anyMatch(v -> v.startsWith("node " + node + " counts "))
        .anyMatch(v -> v.startsWith("counters kept/recount"));
    assertThat(ksm.counterViolations()).anyMatch(v -> v.startsWith("node " + node + " counts "));
  }

  @Test
  void nodeCountWrittenBehindTheScanner_isLeftToTheFullRecount_untilTheNodeIsTouched()
      throws Exception {
    int id = stableItem();
    int node = items().node(id);
    stable().items[node]++; // a raw write: nothing marks the node
    ksm.runBatch();
    assertThat(ksm.counterViolationsIncremental()).isEmpty();
    assertThat(ksm.counterViolations()).anyMatch(v -> v.startsWith("node " + node + " counts "));
    // an item joining or leaving the node marks it: the incremental check then sees the count
    items().setNode(id, node);
    assertThat(ksm.counterViolationsIncremental())
        .anyMatch(v -> v.startsWith("node " + node + " counts "));
  }
}
