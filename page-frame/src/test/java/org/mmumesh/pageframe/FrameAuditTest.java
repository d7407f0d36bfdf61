package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Fingerprint;

/**
 * {@link PageFrames#invariantViolationsIncremental}: silent on a consistent history, and every
 * corruption the full check finds is found by the incremental check at the next call when it goes
 * through the tracked mutators, or by the full check when it is written behind them on a frame
 * nothing touched since.
 */
class FrameAuditTest {
  private final PageFrames pf = new PageFrames();

  /** Two VMs of 16 pages, pages 0-7 populated with equal contents in both, checked once. */
  FrameAuditTest() {
    for (int vm = 0; vm < 2; vm++) {
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, 16, 0, false);
      for (int g = 0; g < 8; g++) {
        pf.populate(vm, g, Fingerprint.avalanche(100 + g));
      }
    }
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
  }

  /** KSM merges gfn {@code g} of VM 1 into VM 0's frame, as ksmd does; the KSM pfn. */
  private int merge(long g) {
    int a = pf.ptePfn(0, g);
    int b = pf.ptePfn(1, g);
    assertThat(pf.writeProtectPage(0, g, a)).isTrue();
    pf.makeKsmPage(0, g, a);
    assertThat(pf.writeProtectPage(1, g, b)).isTrue();
    assertThat(pf.replacePage(1, g, b, a)).isTrue();
    return a;
  }

  private FrameTable table() throws Exception {
    Field f = PageFrames.class.getDeclaredField("frames");
    f.setAccessible(true);
    return (FrameTable) f.get(pf);
  }

  private HostMm mm(int vm) throws Exception {
    Field f = PageFrames.class.getDeclaredField("vms");
    f.setAccessible(true);
    Object v = ((Object[]) f.get(pf))[vm];
    Field m = v.getClass().getDeclaredField("mm");
    m.setAccessible(true);
    return (HostMm) m.get(v);
  }

  @Test
  void randomHistory_incrementalAgreesWithFullCheck_atEveryStep() {
    Random rnd = new Random(10);
    for (int step = 0; step < 400; step++) {
      int vm = rnd.nextInt(2);
      long g = rnd.nextInt(16);
      switch (rnd.nextInt(5)) {
        case 0 -> pf.gfnToPfnProt(vm, g, rnd.nextBoolean());
        case 1 -> {
          int a = pf.ptePfn(0, g);
          int b = pf.ptePfn(1, g);
          if (a > 0 && b > 0 && a != b && !pf.isKsmPage(a) && !pf.isKsmPage(b)) {
            // ksmd's steps; each may refuse (changed content, a shared frame), as in the kernel
            if (pf.writeProtectPage(0, g, a)) {
              pf.makeKsmPage(0, g, a);
              if (pf.writeProtectPage(1, g, b)) {
                pf.replacePage(1, g, b, a);
              }
            }
          }
        }
        case 2 -> pf.breakKsm(vm, g);
        case 3 -> pf.zapPages(vm, g, 1);
        default -> {
          pf.gfnToPfnProt(vm, g, true); // the write fault, then the store
          pf.store(vm, g, 8, rnd.nextLong());
        }
      }
      assertThat(pf.invariantViolationsIncremental()).as("step %d", step).isEmpty();
      assertThat(pf.invariantViolations()).as("step %d", step).isEmpty();
    }
  }

  @Test
  void mapCountOffByOne_throughTheTable_isFoundAtTheNextCheck_andUntilRepaired() throws Exception {
    int ksm = merge(3);
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
    table().incMap(ksm);
    assertThat(pf.invariantViolationsIncremental())
        .anyMatch(v -> v.contains("pfn " + ksm + " map count 3 but 2"));
    assertThat(pf.invariantViolationsIncremental()).anyMatch(v -> v.contains("map count 3 but 2"));
    table().decMap(ksm);
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
  }

  @Test
  void writablePteOnAKsmFrame_isFoundAtTheNextCheck() throws Exception {
    int ksm = merge(5);
    pf.gfnToPfnProt(0, 1, true);
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
    mm(1).set(5, HostMm.encode(ksm, true)); // a writable host PTE on a shared frame
    assertThat(pf.invariantViolationsIncremental())
        .anyMatch(v -> v.contains("shared pfn " + ksm + " is mapped writable by 1"));
    assertThat(pf.invariantViolations()).anyMatch(v -> v.contains("maps shared pfn " + ksm));
  }

  @Test
  void pteToAFreedFrame_andALeakedFrame_areFoundAtTheNextCheck() throws Exception {
    int leaked = table().alloc(Fingerprint.avalanche(7)); // allocated, never mapped
    assertThat(pf.invariantViolationsIncremental())
        .anyMatch(v -> v.contains("pfn " + leaked + " is allocated but neither mapped nor pinned"));
    table().free(leaked);
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
    mm(0).set(12, HostMm.encode(leaked, false)); // a PTE to a free frame
    assertThat(pf.invariantViolationsIncremental())
        .anyMatch(v -> v.contains("free/unknown pfn " + leaked + " is mapped by 1"));
  }

  @Test
  void accountingCounterOffByOne_isFoundAtTheNextCheck_whateverWasTouched() throws Exception {
    merge(2);
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
    Field refsField = PageFrames.class.getDeclaredField("refs"); // the kept counters
    refsField.setAccessible(true);
    Object refs = refsField.get(pf);
    for (String counter : List.of("mappedPtes", "framesInUse", "zeroPtes", "ksmPtes")) {
      Field f = FrameRefs.class.getDeclaredField(counter);
      f.setLong(refs, f.getLong(refs) + 1);
      assertThat(pf.invariantViolationsIncremental()).as(counter).isNotEmpty();
      f.setLong(refs, f.getLong(refs) - 1);
      assertThat(pf.invariantViolationsIncremental()).as(counter).isEmpty();
    }
  }

  @Test
  void corruptionBehindTheMutators_onAnUntouchedFrame_isLeftToTheFullCheck() throws Exception {
    int ksm = merge(4);
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
    // A raw write into the map-count array: nothing marks the frame.
    Field f = FrameTable.class.getDeclaredField("mapCount");
    f.setAccessible(true);
    int[][] counts = (int[][]) f.get(table());
    counts[ksm >>> FrameTable.CHUNK_SHIFT][ksm & (FrameTable.CHUNK - 1)] += 1;
    pf.gfnToPfnProt(0, 9, true); // other events go on
    assertThat(pf.invariantViolationsIncremental()).isEmpty();
    assertThat(pf.invariantViolations())
        .anyMatch(v -> v.contains("pfn " + ksm + " map count 3 but 2"));
    // once something touches the frame, the incremental check sees it too
    pf.breakKsm(1, 4);
    List<String> after = new ArrayList<>(pf.invariantViolationsIncremental());
    assertThat(after).anyMatch(v -> v.contains("pfn " + ksm + " map count 2 but 1"));
  }
}
