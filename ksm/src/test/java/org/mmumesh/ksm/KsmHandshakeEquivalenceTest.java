package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.mmumesh.pageframe.PageFrames;

/**
 * The merge handshake changes nothing but the timing: the same operations applied to (a) a
 * synchronous {@link KsmScanner} and (b) a gated one whose pending handshakes are completed between
 * its batches leave identical counters, page tables and frames after every step.
 */
class KsmHandshakeEquivalenceTest {
  private static final int PAGES = 8;
  private static final int VMS = 3;

  /** One host: page frames and the scanner over them. */
  private static final class Host {
    final PageFrames pf = new PageFrames(2);
    final KsmScanner ksm;
    final boolean gated;

    Host(boolean gated) {
      this.gated = gated;
      if (gated) {
        pf.trackInvalidations(vm -> true);
        ksm = new KsmScanner(pf, pf::invalidationPending);
      } else {
        ksm = new KsmScanner(pf);
      }
      for (int v = 0; v < VMS; v++) {
        pf.createVm(v);
        pf.addSlot(v, 0, 0, PAGES, 0, false);
        ksm.madviseMergeable(v, 0, PAGES);
      }
      ksm.setRun(KsmScanner.RUN_MERGE);
    }

    void batch(int pages) {
      if (!gated) {
        ksm.setPagesToScan(pages);
        ksm.runBatch();
        return;
      }
      long left = pages;
      while (true) {
        left -= ksm.scanBatch(left);
        if (!ksm.handshakePending()) {
          return;
        }
        pf.completeInvalidations(); // the hosts acknowledged: the actor's round completed
      }
    }

    void fullScans(int passes) {
      if (!gated) {
        ksm.runFullScans(passes);
        return;
      }
      int done = 0;
      while (done < passes) {
        done += ksm.scanFullPasses(passes - done);
        if (ksm.handshakePending()) {
          pf.completeInvalidations();
        }
      }
    }

    void apply(int op, int a) {
      int vm = a % VMS;
      long gfn = (a / VMS) % PAGES;
      switch (op) {
        case 0 -> {
          pf.gfnToPfnProt(vm, gfn, true);
          pf.store(vm, gfn, 0, a & 1);
        }
        case 1 -> pf.gfnToPfnProt(vm, gfn, false);
        case 2, 3, 4 -> pf.populate(vm, gfn, a % 3);
        case 5, 6, 7, 8, 9, 10 -> batch(1 + a % 13);
        case 11 -> fullScans(1 + a % 2);
        case 12 -> pf.zapPages(vm, gfn, 1 + a % 2);
        case 13 -> {
          int p = pf.ptePfn(vm, gfn);
          if (p > 0 && pf.pinCount(p) == 0) {
            pf.pinFrame(p);
            batch(5 + a % 7);
            pf.unpinFrame(p);
          }
        }
        case 14 -> pf.cowShare(vm, gfn, (vm + 1) % VMS, (gfn + 1) % PAGES);
        case 15 -> {
          if (a % 4 == 0) {
            ksm.setRun(KsmScanner.RUN_UNMERGE);
            ksm.setRun(KsmScanner.RUN_MERGE);
          } else {
            ksm.madviseUnmergeable(vm, gfn, 2);
            ksm.madviseMergeable(vm, 0, PAGES);
          }
        }
        default -> pf.gfnToPfnProt(vm, gfn, true);
      }
      if (gated) {
        pf.completeInvalidations(); // every request's round completes before the next
      }
    }

    /** Counters, every PTE and every mapped frame, and the notifier sequences. */
    List<Object> state() {
      List<Object> s = new ArrayList<>();
      s.add(KsmFrameScanner.countersOf(ksm));
      s.add(List.of(pf.cowKsm(), pf.cowBreaks(), pf.notifierEvents(), (long) pf.framesAllocated()));
      for (int v = 0; v < VMS; v++) {
        s.add(pf.notifierSeq(v));
        for (long h = 0; h < PAGES; h++) {
          int p = pf.ptePfn(v, h);
          s.add(
              p < 0
                  ? List.of(-1)
                  : List.of(
                      p,
                      pf.pteWritable(v, h),
                      pf.frameFingerprint(p),
                      pf.isKsmPage(p),
                      pf.frameMapCount(p)));
        }
      }
      return s;
    }
  }

  @Property(tries = 200, seed = "20131122")
  void gatedScannerWithHandshakesCompletedBetweenBatches_equalsSynchronousScanner(
      @ForAll @Size(min = 60, max = 160) List<@IntRange(min = 0, max = 16) Integer> ops,
      @ForAll @Size(min = 60, max = 160) List<@IntRange(min = 0, max = 63) Integer> args) {
    Host sync = new Host(false);
    Host gated = new Host(true);
    int n = Math.min(ops.size(), args.size());
    for (int i = 0; i < n; i++) {
      sync.apply(ops.get(i), args.get(i));
      gated.apply(ops.get(i), args.get(i));
      assertThat(gated.state()).as("after op %d", i).isEqualTo(sync.state());
      assertThat(gated.ksm.counterViolations()).isEmpty();
      assertThat(gated.pf.invariantViolations()).isEmpty();
    }
    assertThat(gated.ksm.handshakesAbandoned()).isZero();
    Statistics.label("handshakes").collect(gated.ksm.handshakeRewinds() > 0);
    Statistics.label("merged").collect(sync.ksm.pagesSharing() > 0 || sync.pf.cowKsm() > 0);
    Statistics.label("handshakes").coverage(c -> c.check(true).percentage(p -> p >= 50));
    Statistics.label("merged").coverage(c -> c.check(true).percentage(p -> p >= 50));
  }
}
