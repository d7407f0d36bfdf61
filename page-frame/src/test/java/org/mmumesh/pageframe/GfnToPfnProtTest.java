package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Fingerprint;

/** Every row of the host-page table in spec 5.1, both columns. */
class GfnToPfnProtTest {
  private static final long A = 0x1234_5678_9ABC_DEF0L;
  private PageFrames pf;
  private final List<long[]> events = new ArrayList<>();

  @BeforeEach
  void setUp() {
    pf = new PageFrames();
    pf.createVm(0);
    pf.addSlot(0, 0, 0x100, 64, 0, false);
    pf.addNotifierListener((vm, g0, g1) -> events.add(new long[] {vm, g0, g1}));
  }

  /** Makes gfn 0x100 and 0x101 a KSM page shared by two mappings, as KSM would. */
  private int mergeTwo() {
    pf.populate(0, 0x100, A);
    pf.populate(0, 0x101, A);
    int p0 = pf.ptePfn(0, 0);
    int p1 = pf.ptePfn(0, 1);
    assertThat(pf.writeProtectPage(0, 0, p0)).isTrue();
    pf.makeKsmPage(0, 0, p0);
    assertThat(pf.writeProtectPage(0, 1, p1)).isTrue();
    assertThat(pf.replacePage(0, 1, p1, p0)).isTrue();
    return p0;
  }

  @Test
  void privateWrittenPage_readFault_returnsWritableTrue() {
    pf.populate(0, 0x100, A);
    PfnResult r = pf.gfnToPfnProt(0, 0x100, false);
    assertThat(r.status()).isEqualTo(PfnStatus.OK);
    assertThat(r.writable()).isTrue();
    assertThat(pf.frameFingerprint(r.pfn())).isEqualTo(A);
    PfnResult w = pf.gfnToPfnProt(0, 0x100, true);
    assertThat(w.pfn()).isEqualTo(r.pfn());
    assertThat(w.writable()).isTrue();
    assertThat(pf.cowBreaks()).isZero();
    pf.checkInvariants();
  }

  @Test
  void ksmPage_readFault_returnsKsmPfnReadOnly_noCow_TV33() {
    int k = mergeTwo();
    long seq = pf.notifierSeq(0);
    PfnResult r = pf.gfnToPfnProt(0, 0x100, false);
    assertThat(r.pfn()).isEqualTo(k);
    assertThat(r.writable()).isFalse();
    assertThat(pf.cowKsm()).isZero();
    assertThat(pf.notifierSeq(0)).isEqualTo(seq);
    assertThat(pf.framesSavedByKsm()).isEqualTo(1);
    pf.checkInvariants();
  }

  @Test
  void ksmPage_writeFault_breaksCowToNewPrivateCopy_TV34() {
    int k = mergeTwo();
    events.clear();
    long seq = pf.notifierSeq(0);
    PfnResult w = pf.gfnToPfnProt(0, 0x101, true);
    assertThat(w.pfn()).isNotEqualTo(k);
    assertThat(w.writable()).isTrue();
    assertThat(w.notifierSeq()).isEqualTo(seq);
    assertThat(pf.notifierSeq(0)).isEqualTo(seq + 1);
    assertThat(events).containsExactly(new long[] {0, 0x101, 0x102});
    assertThat(pf.frameFingerprint(w.pfn())).isEqualTo(A);
    assertThat(pf.cowKsm()).isEqualTo(1);
    assertThat(pf.cowBreaks()).isEqualTo(1);
    assertThat(pf.frameMapCount(k)).isEqualTo(1);
    assertThat(pf.framesSavedByKsm()).isZero();
    pf.checkInvariants();
  }

  @Test
  void neverTouched_readFault_mapsZeroPageReadOnly() {
    PfnResult r = pf.gfnToPfnProt(0, 0x105, false);
    assertThat(r.pfn()).isEqualTo(PageFrames.ZERO_PFN);
    assertThat(r.writable()).isFalse();
    assertThat(pf.zeroPageMaps()).isEqualTo(1);
    assertThat(pf.freshAllocations()).isZero();
    assertThat(pf.load(0, 0x105, 8)).isEqualTo(Fingerprint.loadWord(Fingerprint.ZERO, 8));
    pf.checkInvariants();
  }

  @Test
  void neverTouched_writeFault_allocatesZeroedPrivateFrame_noNotifier() {
    long seq = pf.notifierSeq(0);
    PfnResult w = pf.gfnToPfnProt(0, 0x105, true);
    assertThat(w.pfn()).isNotEqualTo(PageFrames.ZERO_PFN);
    assertThat(w.writable()).isTrue();
    assertThat(pf.frameFingerprint(w.pfn())).isEqualTo(Fingerprint.ZERO);
    assertThat(pf.freshAllocations()).isEqualTo(1);
    assertThat(pf.notifierSeq(0)).isEqualTo(seq);
    pf.checkInvariants();
  }

  @Test
  void zeroPageMapped_thenWriteFault_copiesZeroPageWithNotifier() {
    pf.gfnToPfnProt(0, 0x105, false);
    long seq = pf.notifierSeq(0);
    PfnResult w = pf.gfnToPfnProt(0, 0x105, true);
    assertThat(w.pfn()).isNotEqualTo(PageFrames.ZERO_PFN);
    assertThat(pf.zeroPageCow()).isEqualTo(1);
    assertThat(pf.notifierSeq(0)).isEqualTo(seq + 1);
    assertThat(pf.zeroPageMappings()).isZero();
    pf.checkInvariants();
  }

  @Test
  void cowSharedAfterFork_readSharesReadOnly_writeCopies() {
    pf.createVm(1);
    pf.addSlot(1, 0, 0x100, 64, 0, false);
    pf.populate(0, 0x100, A);
    pf.cowShare(0, 0x100, 1, 0x100);
    int shared = pf.ptePfn(0, 0);
    PfnResult r = pf.gfnToPfnProt(1, 0x100, false);
    assertThat(r.pfn()).isEqualTo(shared);
    assertThat(r.writable()).isFalse();
    assertThat(pf.framesSaved()).isEqualTo(1);
    PfnResult w = pf.gfnToPfnProt(1, 0x100, true);
    assertThat(w.pfn()).isNotEqualTo(shared);
    assertThat(w.writable()).isTrue();
    assertThat(pf.cowBreaks()).isEqualTo(1);
    assertThat(pf.cowKsm()).isZero();
    // the last mapping of the formerly shared frame is exclusive: reused in place, no copy
    PfnResult w0 = pf.gfnToPfnProt(0, 0x100, true);
    assertThat(w0.pfn()).isEqualTo(shared);
    assertThat(pf.cowBreaks()).isEqualTo(1);
    assertThat(pf.framesSaved()).isZero();
    pf.checkInvariants();
  }

  @Test
  void protReadRegion_readReturnsPfnReadOnly_writeReturnsFault_Q7() {
    pf.populate(0, 0x102, A);
    pf.protectReadOnly(0, 2, 1);
    PfnResult r = pf.gfnToPfnProt(0, 0x102, false);
    assertThat(r.status()).isEqualTo(PfnStatus.OK);
    assertThat(r.writable()).isFalse();
    assertThat(pf.gfnToPfnProt(0, 0x102, true).status()).isEqualTo(PfnStatus.FAULT);
    assertThat(pf.gfnToPfnProt(0, 0x102, true).pfn()).isEqualTo(-1);
    pf.checkInvariants();
  }

  @Test
  void readOnlySlot_writeReturnsRoFault_readNeverWritable() {
    pf.addSlot(0, 1, 0x1000, 4, 100, true);
    pf.populate(0, 0x1000, A);
    assertThat(pf.gfnToPfnProt(0, 0x1000, true).status()).isEqualTo(PfnStatus.RO_FAULT);
    PfnResult r = pf.gfnToPfnProt(0, 0x1000, false);
    assertThat(r.status()).isEqualTo(PfnStatus.OK);
    assertThat(r.writable()).isFalse();
    assertThatThrownBy(() -> pf.store(0, 0x1000, 0, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("read-only slot");
  }

  @Test
  void noSlot_returnsNoslot() {
    PfnResult r = pf.gfnToPfnProt(0, 0x5000, false);
    assertThat(r.status()).isEqualTo(PfnStatus.NOSLOT);
    assertThat(r.ok()).isFalse();
  }

  @Test
  void store_requiresWritablePte_andMixesFingerprint() {
    assertThatThrownBy(() -> pf.store(0, 0x100, 0, 7))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not present");
    pf.gfnToPfnProt(0, 0x100, false);
    assertThatThrownBy(() -> pf.store(0, 0x100, 0, 7)).isInstanceOf(IllegalStateException.class);
    PfnResult w = pf.gfnToPfnProt(0, 0x100, true);
    pf.store(0, 0x100, 16, 7);
    assertThat(pf.frameFingerprint(w.pfn())).isEqualTo(Fingerprint.mix(Fingerprint.ZERO, 16, 7));
    assertThat(pf.load(0, 0x100, 16))
        .isEqualTo(Fingerprint.loadWord(Fingerprint.mix(Fingerprint.ZERO, 16, 7), 16));
  }

  @Test
  void badInput_namesFieldAndRange_beforeAnyChange() {
    assertThatThrownBy(() -> pf.gfnToPfnProt(0, -1, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gfn");
    assertThatThrownBy(() -> pf.load(0, 0x100, 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset")
        .hasMessageContaining("4095");
    assertThatThrownBy(() -> pf.gfnToPfnProt(7, 0, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vm");
    assertThatThrownBy(() -> pf.populate(0, 0x9000, A))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not in any memslot");
    assertThat(pf.mappedPages()).isZero();
  }
}
