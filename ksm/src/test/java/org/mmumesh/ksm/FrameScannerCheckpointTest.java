package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.KsmState;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.PageFrames;

/**
 * The FrameScanner checkpoint hook (issue 13) the PageFrame actor restores ksmd through, without
 * knowing the implementation: {@code restoredOver} of a checkpoint, over the frames restored from
 * the same cut, writes the same state and scans on exactly as the scanner that never stopped.
 */
class FrameScannerCheckpointTest {
  private static final int VMS = 3;
  private static final int PAGES = 32;

  private static FrameScanner fresh(PageFrames pf) {
    FrameScanner s = KsmFrameScanner.factory().apply(pf);
    for (int v = 0; v < VMS; v++) {
      pf.createVm(v);
      pf.addSlot(v, 0, 0, PAGES, 0, false);
      for (long g = 0; g < PAGES; g++) {
        pf.populate(v, g, g % 5); // duplicates across and within VMs
      }
      s.madvise(v, 0, PAGES, true);
    }
    s.setRun(1);
    return s;
  }

  /** One step of a seeded run: a scan batch or a store that makes a page volatile. */
  private static String step(PageFrames pf, FrameScanner s, Random r) {
    if (r.nextInt(4) == 0) {
      int vm = r.nextInt(VMS);
      long gfn = r.nextInt(PAGES);
      pf.gfnToPfnProt(vm, gfn, true);
      pf.store(vm, gfn, 0, r.nextInt(3));
      return "store " + vm + "/" + gfn;
    }
    return "scan " + s.scan(1 + r.nextInt(20)) + " " + s.counters();
  }

  @Test
  void restoredOver_aCutMidRun_continuesExactlyAsTheScannerThatNeverStopped() {
    PageFrames pf = new PageFrames(2);
    FrameScanner s = fresh(pf);
    Random r = new Random(11);
    for (int i = 0; i < 60; i++) {
      step(pf, s, r);
    }
    KsmState cut = s.checkpoint();
    assertThat(cut.getCounters().getPagesShared()).isPositive();
    PageFrames pf2 = PageFrames.restore(pf.checkpoint());
    FrameScanner copy = s.restoredOver(cut, pf2);

    assertThat(copy.checkpoint()).isEqualTo(cut);
    assertThat(copy.counters()).isEqualTo(s.counters());
    assertThat(copy.counterViolations()).isEmpty();

    long seed = r.nextLong();
    Random a = new Random(seed);
    Random b = new Random(seed);
    List<String> outA = new ArrayList<>();
    List<String> outB = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      outA.add(step(pf, s, a));
      outB.add(step(pf2, copy, b));
    }
    assertThat(outB).isEqualTo(outA);
    assertThat(copy.checkpoint()).isEqualTo(s.checkpoint());
    assertThat(pf2.checkpoint()).isEqualTo(pf.checkpoint());
  }

  @Test
  void restoredOver_framesOfAnotherShape_isRefusedNamingTheField() {
    PageFrames pf = new PageFrames(2);
    FrameScanner s = fresh(pf);
    s.scan(40);
    PageFrames other = new PageFrames(2);
    assertThatThrownBy(() -> s.restoredOver(s.checkpoint(), other))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("vm");
  }

  @Test
  void aScannerWithoutCheckpointSupport_saysSoNamingItsClass() {
    FrameScanner bare =
        new FrameScanner() {
          public Batch scan(long maxPages) {
            return new Batch(0, false);
          }

          public Passes runFullScans(int passes) {
            return new Passes(0, false);
          }

          public void setRun(int run) {}

          public int run() {
            return 0;
          }

          public void setPagesToScan(long pages) {}

          public long pagesToScan() {
            return 0;
          }

          public void setSleepMillisecs(long millis) {}

          public long sleepMillisecs() {
            return 1;
          }

          public void madvise(int vm, long hvaPage, long pages, boolean mergeable) {}

          public Map<String, Long> counters() {
            return Map.of();
          }

          public List<String> counterViolations() {
            return List.of();
          }
        };
    assertThatThrownBy(bare::checkpoint)
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageStartingWith("checkpoint: ");
    assertThatThrownBy(() -> bare.restoredOver(KsmState.getDefaultInstance(), new PageFrames(1)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageStartingWith("restore: ");
  }
}
