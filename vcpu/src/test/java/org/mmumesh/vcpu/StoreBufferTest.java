package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StoreBufferTest {
  @Test
  void drain_returnsStoresInProgramOrder_andEmptiesTheBuffer() {
    StoreBuffer b = new StoreBuffer(3);
    b.add(5, 0x10, 1);
    b.add(5, 0x10, 2);
    b.add(6, 0xFFF, -1);
    assertThat(b.isFull()).isTrue();
    StoreBuffer.Drained d = b.drain();
    assertThat(d.pfns()).containsExactly(5, 5, 6);
    assertThat(d.offsets()).containsExactly(0x10, 0x10, 0xFFF);
    assertThat(d.values()).containsExactly(1L, 2L, -1L);
    assertThat(b.isEmpty()).isTrue();
    assertThat(b.drain().pfns()).isEmpty();
  }

  @Test
  void add_whenFull_throws_andCapacityIsChecked() {
    StoreBuffer b = new StoreBuffer(1);
    b.add(1, 0, 0);
    assertThatThrownBy(() -> b.add(2, 0, 0)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new StoreBuffer(0)).hasMessageStartingWith("capacity: 0");
  }
}
