package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Fingerprint;

/** Loads and stores through a host HPTE's pfn, and the isolation check on stores. */
class FrameAccessTest {
  private static final long A = 0x0BAD_F00D_1234_5678L;

  private static PageFrames twoPages() {
    PageFrames pf = new PageFrames();
    pf.createVm(0);
    pf.addSlot(0, 0, 0, 8, 0, false);
    pf.populate(0, 0, A);
    pf.populate(0, 1, A);
    return pf;
  }

  @Test
  void storeFrame_changesTheContentSeenByLoadFrameAndByGfnLoads() {
    PageFrames pf = twoPages();
    int p = pf.ptePfn(0, 0);
    pf.storeFrame(p, 16, 99);
    long expected = Fingerprint.mix(A, 16, 99);
    assertThat(pf.frameFingerprint(p)).isEqualTo(expected);
    assertThat(pf.loadFrame(p, 8)).isEqualTo(Fingerprint.loadWord(expected, 8));
    assertThat(pf.load(0, 0, 8)).isEqualTo(pf.loadFrame(p, 8));
  }

  @Test
  void storeFrame_refusesASharedFrame_andChangesNothing() {
    PageFrames pf = twoPages();
    int p0 = pf.ptePfn(0, 0);
    int p1 = pf.ptePfn(0, 1);
    pf.writeProtectPage(0, 0, p0);
    pf.makeKsmPage(0, 0, p0);
    pf.writeProtectPage(0, 1, p1);
    pf.replacePage(0, 1, p1, p0);
    assertThatThrownBy(() -> pf.storeFrame(p0, 0, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("isolation violated")
        .hasMessageContaining("ksm=true");
    assertThat(pf.frameFingerprint(p0)).isEqualTo(A);
    assertThatThrownBy(() -> pf.storeFrame(PageFrames.ZERO_PFN, 0, 1))
        .hasMessageContaining("zero=true");
  }

  @Test
  void loadFrame_refusesAFreeFrame() {
    PageFrames pf = twoPages();
    assertThatThrownBy(() -> pf.loadFrame(1_000, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stale mapping");
  }
}
