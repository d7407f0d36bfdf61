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
  void size_mustBeAPowerOfTwo() {
    assertThatThrownBy(() -> new Tlb(48)).hasMessageContaining("power of two from 1 to 65536");
  }
}
