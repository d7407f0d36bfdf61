package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The page-level operations KSM performs (spec 7.4 steps 1-3, 7.6) and savings accounting. */
class KsmPageOpsTest {
  private static final long A = 0xAAAA_0000_1111L;
  private static final long B = 0xBBBB_0000_2222L;
  private PageFrames pf;
  private int events;

  @BeforeEach
  void setUp() {
    pf = new PageFrames(4);
    pf.createVm(0);
    pf.addSlot(0, 0, 0, 32, 0, false);
    pf.addNotifierListener((vm, g0, g1) -> events++);
  }

  @Test
  void writeProtect_makesPteReadOnly_withNotifierEvent() {
    pf.populate(0, 3, A);
    int p = pf.ptePfn(0, 3);
    assertThat(pf.writeProtectPage(0, 3, p)).isTrue();
    assertThat(pf.pteWritable(0, 3)).isFalse();
    assertThat(events).isEqualTo(1);
    // already read-only: success, no second event
    assertThat(pf.writeProtectPage(0, 3, p)).isTrue();
    assertThat(events).isEqualTo(1);
  }

  @Test
  void writeProtect_failsOnPinnedFrame_andRestoresNothingChanged() {
    pf.populate(0, 3, A);
    int p = pf.ptePfn(0, 3);
    pf.pinFrame(p);
    long seq = pf.notifierSeq(0);
    assertThat(pf.writeProtectPage(0, 3, p)).isFalse();
    assertThat(pf.pteWritable(0, 3)).isTrue();
    assertThat(pf.notifierSeq(0)).isEqualTo(seq);
    pf.unpinFrame(p);
    assertThat(pf.writeProtectPage(0, 3, p)).isTrue();
  }

  @Test
  void writeProtect_failsWhenPteNoLongerMapsExpectedPfn() {
    pf.populate(0, 3, A);
    assertThat(pf.writeProtectPage(0, 3, pf.ptePfn(0, 3) + 1)).isFalse();
    assertThat(pf.writeProtectPage(0, 4, 1)).isFalse();
  }

  @Test
  void replacePage_requiresEqualContent_andFreesOldFrame() {
    pf.populate(0, 1, A);
    pf.populate(0, 2, A);
    pf.populate(0, 3, B);
    int k = pf.ptePfn(0, 1);
    pf.writeProtectPage(0, 1, k);
    pf.makeKsmPage(0, 1, k);
    int p3 = pf.ptePfn(0, 3);
    pf.writeProtectPage(0, 3, p3);
    assertThat(pf.replacePage(0, 3, p3, k)).isFalse(); // B != A
    assertThat(pf.ptePfn(0, 3)).isEqualTo(p3);
    int p2 = pf.ptePfn(0, 2);
    assertThat(pf.replacePage(0, 2, p2, k)).isFalse(); // still writable: not write-protected
    pf.writeProtectPage(0, 2, p2);
    int before = events;
    assertThat(pf.replacePage(0, 2, p2, k)).isTrue();
    assertThat(events).isEqualTo(before + 1);
    assertThat(pf.isLiveFrame(p2)).isFalse();
    assertThat(pf.frameMapCount(k)).isEqualTo(2);
    assertThat(pf.framesSaved()).isEqualTo(1);
    assertThat(pf.framesSavedByKsm()).isEqualTo(1);
    pf.checkInvariants();
  }

  @Test
  void makeKsmPage_rejectsWritablePte() {
    pf.populate(0, 1, A);
    int p = pf.ptePfn(0, 1);
    assertThatThrownBy(() -> pf.makeKsmPage(0, 1, p)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void breakKsm_copiesAndFreesKsmFrameWhenLastMappingGoes_generationShowsStaleness() {
    pf.populate(0, 1, A);
    int k = pf.ptePfn(0, 1);
    pf.writeProtectPage(0, 1, k);
    pf.makeKsmPage(0, 1, k);
    int gen = pf.frameGeneration(k);
    assertThat(pf.breakKsm(0, 2)).isFalse(); // not present
    assertThat(pf.breakKsm(0, 1)).isTrue();
    assertThat(pf.cowKsm()).isEqualTo(1);
    assertThat(pf.isKsmPage(k)).isFalse();
    assertThat(pf.frameGeneration(k)).isNotEqualTo(gen);
    assertThat(pf.pteWritable(0, 1)).isTrue();
    assertThat(pf.frameFingerprint(pf.ptePfn(0, 1))).isEqualTo(A);
    pf.checkInvariants();
  }

  @Test
  void freedFrames_areRecycledLifo_deterministically() {
    pf.populate(0, 1, A);
    pf.populate(0, 2, B);
    int p1 = pf.ptePfn(0, 1);
    int p2 = pf.ptePfn(0, 2);
    pf.zapPages(0, 1, 2);
    pf.populate(0, 5, A);
    pf.populate(0, 6, A);
    assertThat(pf.ptePfn(0, 5)).isEqualTo(p2);
    assertThat(pf.ptePfn(0, 6)).isEqualTo(p1);
    assertThat(pf.framesAllocated()).isEqualTo(3);
    pf.checkInvariants();
  }

  @Test
  void nextAnonPage_skipsAbsentAndZeroPagePtes() {
    pf.gfnToPfnProt(0, 1, false); // zero page
    pf.populate(0, 4, A);
    assertThat(pf.nextAnonPage(0, 0, 32)).isEqualTo(4);
    assertThat(pf.nextAnonPage(0, 5, 32)).isEqualTo(-1);
  }

  @Test
  void framesSaved_countsZeroPageSharing_separately() {
    pf.gfnToPfnProt(0, 1, false);
    pf.gfnToPfnProt(0, 2, false);
    pf.gfnToPfnProt(0, 3, false);
    assertThat(pf.framesSaved()).isEqualTo(2);
    assertThat(pf.framesSavedExcludingZeroPage()).isZero();
    assertThat(pf.framesSavedByKsm()).isZero();
    pf.checkInvariants();
  }

  @Test
  void invariantChecker_detectsCorruptedCountsAndWritableSharedMapping() throws Exception {
    pf.populate(0, 1, A);
    int p = pf.ptePfn(0, 1);
    assertThat(pf.invariantViolations()).isEmpty();
    java.lang.reflect.Field f = PageFrames.class.getDeclaredField("frames");
    f.setAccessible(true);
    FrameTable frames = (FrameTable) f.get(pf);
    frames.setKsm(p); // a KSM frame behind a writable PTE, behind the accounting's back
    assertThat(pf.invariantViolations())
        .anyMatch(v -> v.contains("writable"))
        .anyMatch(v -> v.contains("ksm accounting"));
    frames.incMap(p);
    assertThat(pf.invariantViolations()).anyMatch(v -> v.contains("map count"));
  }
}
