package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TlbTest {

  @Test
  void hit_requiresTheSameTagAndEpoch() {
    Tlb tlb = new Tlb(64);
    long tag = Tlb.tag(0x10005123L, 5);
    tlb.fill(tag, 3, 42, 7, Tlb.PROT_WRITE);
    int i = tlb.lookup(tag, 3);
    assertThat(i).isNotNegative();
    assertThat(tlb.slot(i)).isEqualTo(42);
    assertThat(tlb.pfn(i)).isEqualTo(7);
    assertThat(tlb.prot(i)).isEqualTo(Tlb.PROT_WRITE);
    assertThat(tlb.lookup(tag, 4)).as("a later epoch empties the TLB").isEqualTo(-1);
    assertThat(tlb.lookup(Tlb.tag(0x10005123L, 4), 3)).as("another mode").isEqualTo(-1);
    assertThat(tlb.lookup(Tlb.tag(0x10006000L, 5), 3)).isEqualTo(-1);
  }

  @Test
  void arrays_areAllocatedAtTheFirstFill_notAtCreationNorByMisses() {
    Tlb tlb = new Tlb(1 << 16);
    assertThat(tlb.isAllocated()).isFalse();
    assertThat(tlb.lookup(Tlb.tag(0x1000L, 0), 1)).isEqualTo(-1);
    tlb.flush();
    assertThat(tlb.isAllocated()).as("a miss and a flush allocate nothing").isFalse();
    tlb.fill(Tlb.tag(0x1000L, 0), 1, 2, 3, 0);
    assertThat(tlb.isAllocated()).isTrue();
  }

  @Test
  void snapshot_keepsExactlyTheEntriesOfItsEpoch_andRestoredHitsWhereTheOriginalHits() {
    Tlb tlb = new Tlb(64);
    long[] eas = {0x1000L, 0x2000L, 0x3000L, 0x7000_0000L};
    for (int k = 0; k < eas.length; k++) {
      tlb.fill(Tlb.tag(eas[k], 5), k < 3 ? 9 : 8, 10 + k, 20 + k, Tlb.PROT_WRITE);
    }
    Tlb.Snapshot s = tlb.snapshot(9);
    assertThat(s.index()).hasSize(3); // the entry of epoch 8 is stale at 9: dropped
    Tlb back = Tlb.restored(64, s);
    assertThat(back.isAllocated()).isFalse();
    for (long ea : new long[] {0x1000L, 0x2000L, 0x3000L, 0x7000_0000L, 0x4000L}) {
      int i = tlb.lookup(Tlb.tag(ea, 5), 9);
      int j = back.lookup(Tlb.tag(ea, 5), 9);
      assertThat(j).as("0x%x", ea).isEqualTo(i);
      if (i >= 0) {
        assertThat(back.slot(j)).isEqualTo(tlb.slot(i));
        assertThat(back.pfn(j)).isEqualTo(tlb.pfn(i));
        assertThat(back.prot(j)).isEqualTo(tlb.prot(i));
      }
    }
    assertThat(back.isAllocated()).isTrue();
    assertThat(new Tlb(64).snapshot(1)).as("nothing valid: nothing kept").isNull();
  }

  @Test
  void size_mustBeAPowerOfTwo() {
    assertThatThrownBy(() -> new Tlb(48)).hasMessageContaining("power of two from 1 to 65536");
  }
}
