package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link FaultPageRefs}: which answers take a reference, and what dropping it does. */
class FaultPageRefsTest {
  private PageFrames pf;
  private FaultPageRefs refs;

  @BeforeEach
  void setUp() {
    pf = new PageFrames();
    refs = new FaultPageRefs(pf);
    pf.createVm(0);
    pf.addSlot(0, 0, 0, 4, 0, false);
  }

  @Test
  void aWriteFaultsFrame_isPinnedUntilReleased_andWriteProtectFailsMeanwhile() {
    PfnResult r = pf.gfnToPfnProt(0, 1, true);
    refs.take(3, r);
    assertThat(refs.frameOf(3)).isEqualTo(r.pfn());
    assertThat(refs.size()).isEqualTo(1);
    assertThat(pf.writeProtectPage(0, 1, r.pfn())).as("page count check fails").isFalse();
    assertThat(pf.pteWritable(0, 1)).isTrue();
    assertThat(refs.release(3)).isEqualTo(r.pfn());
    assertThat(refs.size()).isZero();
    assertThat(pf.writeProtectPage(0, 1, r.pfn())).isTrue();
    assertThat(pf.pteWritable(0, 1)).isFalse();
  }

  @Test
  void zeroPageAndErrors_takeNoReference_andAnUnknownHolderIsIgnored() {
    PfnResult zero = pf.gfnToPfnProt(0, 2, false);
    assertThat(zero.pfn()).isEqualTo(PageFrames.ZERO_PFN);
    refs.take(1, zero);
    PfnResult noSlot = pf.gfnToPfnProt(0, 100, false);
    assertThat(noSlot.ok()).isFalse();
    refs.take(2, noSlot);
    assertThat(refs.size()).isZero();
    assertThat(refs.release(1)).isEqualTo(-1);
    assertThat(refs.release(99)).isEqualTo(-1);
    assertThat(pf.invariantViolations()).isEmpty();
  }

  @Test
  void aFrameUnmappedWhileReferenced_staysAllocatedUntilReleased() {
    PfnResult r = pf.gfnToPfnProt(0, 0, true);
    refs.take(5, r);
    pf.zapPages(0, 0, 1);
    assertThat(pf.isLiveFrame(r.pfn())).as("a raised page count keeps the page").isTrue();
    assertThat(pf.invariantViolations()).isEmpty();
    refs.release(5);
    assertThat(pf.isLiveFrame(r.pfn())).isFalse();
    assertThat(pf.invariantViolations()).isEmpty();
  }

  @Test
  void aHolderHoldsOneReference() {
    refs.take(1, pf.gfnToPfnProt(0, 0, true));
    PfnResult again = pf.gfnToPfnProt(0, 3, true);
    assertThatThrownBy(() -> refs.take(1, again)).hasMessageContaining("holder: 1");
    assertThat(refs.size()).isEqualTo(1);
  }
}
