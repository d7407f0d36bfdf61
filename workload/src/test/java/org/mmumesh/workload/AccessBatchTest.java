package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;

class AccessBatchTest {

  @Test
  void add_storesEveryFieldInParallelArrays() {
    AccessBatch b = new AccessBatch(3);
    b.add(Access.LOAD, 0x1000_0008L, 8, 0);
    b.add(Access.STORE.ordinal(), 0x1000_1010L, 4, 0xDEADL);
    assertThat(b.size()).isEqualTo(2);
    assertThat(b.kind(0)).isEqualTo(Access.LOAD);
    assertThat(b.kind(1)).isEqualTo(Access.STORE);
    assertThat(b.kindOrdinal(1)).isEqualTo(Access.STORE.ordinal());
    assertThat(b.ea(1)).isEqualTo(0x1000_1010L);
    assertThat(b.sizeBytes(1)).isEqualTo(4);
    assertThat(b.value(1)).isEqualTo(0xDEADL);
    assertThat(b.isFull()).isFalse();
  }

  @Test
  void add_throwsIllegalState_whenFull_andClearEmptiesKeepingCapacity() {
    AccessBatch b = new AccessBatch(1);
    b.add(Access.IFETCH, 0x1000_0000L, 4, 0);
    assertThat(b.isFull()).isTrue();
    assertThatThrownBy(() -> b.add(Access.LOAD, 0, 8, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("capacity 1");
    b.clear();
    assertThat(b.size()).isZero();
    assertThat(b.capacity()).isEqualTo(1);
    b.add(Access.LOAD, 8, 8, 0);
    assertThat(b.ea(0)).isEqualTo(8);
  }

  @Test
  void badArguments_areRejectedNamingTheField() {
    assertThatThrownBy(() -> new AccessBatch(0)).hasMessageContaining("capacity");
    AccessBatch b = new AccessBatch(2);
    assertThatThrownBy(() -> b.add(Access.LOAD, 0, 0, 0))
        .hasMessageContaining("sizeBytes")
        .hasMessageContaining("1 to 4096");
    assertThatThrownBy(() -> b.add(7, 0, 8, 0)).hasMessageContaining("kindOrdinal");
    assertThat(b.size()).isZero();
    assertThatThrownBy(() -> b.ea(0)).isInstanceOf(IndexOutOfBoundsException.class);
  }
}
