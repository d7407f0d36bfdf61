package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;

/**
 * Random interleavings of guest stores and loads, host operations and ksmd batches keep the
 * PageFrames invariants and the KSM counter definitions of spec 7.5 true at every step.
 */
class KsmPropertyTest {
  private static final int PAGES = 8;

  @Property(tries = 300)
  void randomInterleavings_keepInvariantsAndCounterDefinitions(
      @ForAll @Size(min = 60, max = 200) List<@IntRange(min = 0, max = 19) Integer> ops,
      @ForAll @Size(min = 60, max = 200) List<@IntRange(min = 0, max = 63) Integer> args) {
    PageFrames pf = new PageFrames(2);
    KsmScanner ksm = new KsmScanner(pf);
    for (int v = 0; v < 3; v++) {
      pf.createVm(v);
      pf.addSlot(v, 0, 0, PAGES, 0, false);
      ksm.madviseMergeable(v, 0, PAGES);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    int n = Math.min(ops.size(), args.size());
    boolean merged = false;
    for (int i = 0; i < n; i++) {
      int a = args.get(i);
      int vm = a % 3;
      long gfn = (a / 3) % PAGES;
      switch (ops.get(i)) {
        case 0 -> {
          PfnResult r = pf.gfnToPfnProt(vm, gfn, true); // guest store
          pf.store(vm, gfn, 0, a & 1);
          assertThat(r.writable()).isTrue();
        }
        case 1 -> pf.gfnToPfnProt(vm, gfn, false); // guest load (post-commit)
        case 2 -> pf.load(vm, gfn, 8);
        case 3, 4, 5 -> pf.populate(vm, gfn, a % 4); // few distinct contents: merges happen
        case 6, 7, 8, 9, 10, 11, 12, 18, 19 -> {
          ksm.setPagesToScan(1 + a % 31);
          ksm.runBatch();
        }
        case 13 -> pf.zapPages(vm, gfn, 1 + a % 2);
        case 14 -> {
          int p = pf.ptePfn(vm, gfn);
          if (p > 0 && pf.pinCount(p) == 0) {
            pf.pinFrame(p);
            ksm.runBatch();
            pf.unpinFrame(p);
          }
        }
        case 15 -> pf.cowShare(vm, gfn, (vm + 1) % 3, (gfn + 1) % PAGES);
        case 16 -> {
          if (a % 4 == 0) {
            ksm.setRun(KsmScanner.RUN_UNMERGE);
            assertThat(ksm.rmapItems()).isZero();
            assertThat(pf.framesSavedByKsm()).isZero();
            ksm.setRun(KsmScanner.RUN_MERGE);
          } else {
            ksm.madviseUnmergeable(vm, gfn, 2);
            ksm.madviseMergeable(vm, 0, PAGES);
          }
        }
        default -> pf.gfnToPfnProt(vm, gfn, true); // legacy load: asks for write access
      }
      assertThat(pf.invariantViolations()).isEmpty();
      assertThat(ksm.counterViolations()).isEmpty();
      assertThat(ksm.pagesVolatile())
          .isEqualTo(
              Math.max(
                  0,
                  ksm.rmapItems() - ksm.pagesShared() - ksm.pagesSharing() - ksm.pagesUnshared()));
      assertThat(ksm.pagesShared()).isLessThanOrEqualTo(ksm.stableNodes());
      assertThat(ksm.rmapItems()).isLessThanOrEqualTo(3L * PAGES);
      merged |= ksm.pagesSharing() > 0;
    }
    // the generator must really exercise merging and COW of KSM pages, or the property is hollow
    Statistics.label("merged").collect(merged);
    Statistics.label("cowKsm").collect(pf.cowKsm() > 0);
    Statistics.label("merged").coverage(c -> c.check(true).percentage(p -> p >= 20));
    Statistics.label("cowKsm").coverage(c -> c.check(true).percentage(p -> p >= 10));
  }
}
