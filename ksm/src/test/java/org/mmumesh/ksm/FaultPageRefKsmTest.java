package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.FaultPageRefs;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;

/**
 * The page reference a fault holds ({@link FaultPageRefs}, KVM's {@code gfn_to_pfn_prot} reference)
 * against ksmd, pure cores only: {@code write_protect_page}'s page-count check (mm/ksm.c) skips the
 * referenced frame, and ksmd merges it on a later pass once the reference is dropped.
 */
class FaultPageRefKsmTest {
  private static final long A = 0x0A0A_1234_5678_9ABCL;
  private PageFrames pf;
  private KsmScanner ksm;
  private FaultPageRefs refs;

  @BeforeEach
  void setUp() {
    pf = new PageFrames();
    ksm = new KsmScanner(pf);
    refs = new FaultPageRefs(pf);
    for (int vm = 0; vm < 2; vm++) {
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, 1, 0, false);
      ksm.madviseMergeable(vm, 0, 1);
      pf.populate(vm, 0, A); // a private, writable frame with the same content in both VMs
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
  }

  @Test
  void referencedFrame_isSkippedByTheMerge_andMergedOnALaterPassOnceReleased() {
    // a store fault on vm 1's page holds its frame (the host PTE stays writable)
    PfnResult fault = pf.gfnToPfnProt(1, 0, true);
    assertThat(fault.writable()).isTrue();
    refs.take(7, fault);
    assertThat(pf.pinCount(fault.pfn())).isEqualTo(1);

    ksm.runFullScans(4); // checksums, then merge attempts on every later pass
    assertThat(ksm.pagesShared()).as("no merge while the fault holds the frame").isZero();
    assertThat(ksm.pagesSharing()).isZero();
    assertThat(pf.pteWritable(1, 0)).as("write_protect_page restored the PTE").isTrue();
    assertThat(pf.ptePfn(1, 0)).isEqualTo(fault.pfn());
    assertThat(pf.invariantViolations()).isEmpty();
    assertThat(ksm.counterViolations()).isEmpty();

    assertThat(refs.release(7)).isEqualTo(fault.pfn()); // kvm_release_pfn_clean after the map
    assertThat(pf.pinCount(fault.pfn())).isZero();
    ksm.runFullScans(2);
    assertThat(ksm.pagesShared()).as("merged once released").isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    assertThat(pf.pteWritable(1, 0)).isFalse();
    assertThat(pf.ptePfn(1, 0)).isEqualTo(pf.ptePfn(0, 0));
    assertThat(pf.invariantViolations()).isEmpty();
    assertThat(ksm.counterViolations()).isEmpty();
  }

  @Test
  void aReadOnlyMappedFrame_isMergedEvenWhenReferenced_asTheKernelHasNothingToWriteProtect() {
    ksm.runFullScans(2); // merged: both VMs map one KSM page read-only
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    PfnResult load = pf.gfnToPfnProt(1, 0, false);
    assertThat(load.writable()).isFalse();
    refs.take(1, load);
    ksm.runFullScans(2); // the referenced KSM page stays merged: nothing is write-protected
    assertThat(ksm.pagesShared()).isEqualTo(1);
    assertThat(ksm.pagesSharing()).isEqualTo(1);
    refs.release(1);
    assertThat(ksm.counterViolations()).isEmpty();
  }
}
