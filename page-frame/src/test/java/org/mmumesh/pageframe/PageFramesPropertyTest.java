package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/** Random interleavings of host operations keep the PageFrames invariants. */
class PageFramesPropertyTest {

  @Property(tries = 200)
  void randomOperations_keepInvariants(
      @ForAll @Size(min = 30, max = 120) List<@IntRange(min = 0, max = 11) Integer> ops,
      @ForAll @Size(min = 30, max = 120) List<@IntRange(min = 0, max = 15) Integer> pages) {
    PageFrames pf = new PageFrames(2);
    pf.createVm(0);
    pf.createVm(1);
    pf.addSlot(0, 0, 0, 16, 0, false);
    pf.addSlot(1, 0, 0, 16, 0, false);
    long[] seqSeen = new long[2];
    int n = Math.min(ops.size(), pages.size());
    boolean ksmShared = false;
    for (int i = 0; i < n; i++) {
      int page = pages.get(i);
      int vm = page & 1;
      long gfn = page;
      switch (ops.get(i)) {
        case 0 -> pf.gfnToPfnProt(vm, gfn, false);
        case 1 -> {
          PfnResult r = pf.gfnToPfnProt(vm, gfn, true);
          if (r.ok()) {
            assertThat(r.writable()).isTrue();
            pf.store(vm, gfn, (page * 8) & 0xFF8, i);
          } else {
            assertThat(r.status()).isEqualTo(PfnStatus.FAULT); // PROT_READ region
          }
        }
        case 2 -> pf.populate(vm, gfn, page % 3);
        case 3 -> pf.zapPages(vm, gfn, 1);
        case 4 -> pf.cowShare(vm, gfn, 1 - vm, (gfn + 1) & 15);
        case 5, 6 -> {
          int p = pf.ptePfn(vm, gfn);
          if (p > 0 && pf.writeProtectPage(vm, gfn, p) && !pf.isKsmPage(p)) {
            pf.makeKsmPage(vm, gfn, p);
          }
        }
        case 7 -> {
          int p = pf.ptePfn(vm, gfn);
          int k = pf.ptePfn(1 - vm, (gfn + 3) & 15);
          if (p > 0 && k > 0 && pf.isKsmPage(k) && pf.writeProtectPage(vm, gfn, p)) {
            pf.replacePage(vm, gfn, p, k);
          }
        }
        case 8 -> pf.breakKsm(vm, gfn);
        case 9 -> pf.load(vm, gfn, 0);
        case 10 -> pf.protectReadOnly(vm, gfn, 1);
        default -> {
          int p = pf.ptePfn(vm, gfn);
          if (p > 0 && pf.pinCount(p) == 0) {
            pf.pinFrame(p);
            pf.unpinFrame(p);
          }
        }
      }
      assertThat(pf.notifierSeq(vm)).isGreaterThanOrEqualTo(seqSeen[vm]);
      seqSeen[vm] = pf.notifierSeq(vm);
      assertThat(pf.invariantViolations()).isEmpty();
      assertThat(pf.framesSavedByKsm()).isLessThanOrEqualTo(pf.framesSavedExcludingZeroPage());
      ksmShared |= pf.framesSavedByKsm() > 0;
    }
    Statistics.label("ksmShared").collect(ksmShared);
    Statistics.label("cow").collect(pf.cowBreaks() > 0);
    Statistics.label("ksmShared").coverage(c -> c.check(true).percentage(p -> p >= 20));
    Statistics.label("cow").coverage(c -> c.check(true).percentage(p -> p >= 50));
  }
}
