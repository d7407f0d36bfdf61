package org.mmumesh.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CounterTest {

  @Test
  void wireName_isTheLowerCaseEnumName_andByNameReadsEitherCase() {
    for (Counter c : Counter.values()) {
      assertThat(c.wireName()).isEqualTo(c.name().toLowerCase(java.util.Locale.ROOT));
      assertThat(Counter.byName(c.wireName())).isSameAs(c);
      assertThat(Counter.byName(c.name())).isSameAs(c);
    }
    assertThat(Counter.byNameOrNull("cow_breaks")).isNull();
  }

  @Test
  void byName_rejectsAnUnknownName_namingTheAllowedOnes() {
    assertThatThrownBy(() -> Counter.byName("tlb_hit"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'tlb_hit' is not a counter")
        .hasMessageContaining("tlb_hits");
  }

  @Test
  void run_listsAllButTheMeshsOwn_andVcpu_allButTheGuestKernels() {
    assertThat(Counter.RUN).hasSize(30).doesNotContain(Counter.TIMEOUTS, Counter.STORES_LOST);
    assertThat(Counter.RUN).startsWith(Counter.ACCESSES).endsWith(Counter.FAILED_ACCESSES);
    assertThat(Counter.VCPU).hasSize(30).doesNotContain(Counter.GUEST_DEMAND_MAPS);
    assertThat(Counter.VCPU).contains(Counter.TIMEOUTS, Counter.MISSED_C);
    assertThat(Counter.TIMEOUTS.source()).isEqualTo(Counter.Source.MESH);
    assertThat(Counter.GUEST_EVICTIONS.source()).isEqualTo(Counter.Source.GUEST_KERNEL);
  }

  @Test
  void counts_rejectsAVectorOfTheWrongLength_orANegativeValue_namingIt() {
    assertThatThrownBy(() -> new Counts(new long[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("values: 3 values; allowed exactly " + Counter.COUNT);
    long[] v = new long[Counter.COUNT];
    v[Counter.MISSED_C.ordinal()] = -1;
    assertThatThrownBy(() -> new Counts(v))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("MISSED_C: -1 is negative; allowed 0 or more");
  }

  @Test
  void counts_isAValue_copiedIn_copiedOut_andSummedElementWise() {
    long[] v = new long[Counter.COUNT];
    v[Counter.TLB_HITS.ordinal()] = 5;
    Counts a = new Counts(v);
    v[Counter.TLB_HITS.ordinal()] = 99; // the caller's array is not the counter's
    a.values()[Counter.TLB_HITS.ordinal()] = 77; // nor is the accessor's
    assertThat(a.get(Counter.TLB_HITS)).isEqualTo(5);
    Counts b = Counts.of(Map.of(Counter.TLB_HITS, 2L, Counter.STORES_LOST, 1L));
    Counts sum = a.plus(b);
    assertThat(sum.get(Counter.TLB_HITS)).isEqualTo(7);
    assertThat(sum.get(Counter.STORES_LOST)).isEqualTo(1);
    assertThat(sum).isEqualTo(b.plus(a)).hasSameHashCodeAs(b.plus(a)).isNotEqualTo(a);
    assertThat(Counts.zero().plus(a)).isEqualTo(a);
  }

  @Test
  void counts_maps_listTheVcpusCounters_byEnumAndByWireName() {
    Counts c = Counts.of(Map.of(Counter.HTAB_HITS, 3L, Counter.GUEST_SLB_LOADS, 4L));
    assertThat(c.toMap()).hasSize(Counter.VCPU.size()).containsEntry("HTAB_HITS", 3L);
    assertThat(c.toMap()).doesNotContainKey("GUEST_SLB_LOADS");
    assertThat(c.toWireMap()).containsEntry("htab_hits", 3L).containsEntry("retries", 0L);
    assertThat(c.toEnumMap()).containsEntry(Counter.GUEST_SLB_LOADS, 4L).hasSize(Counter.COUNT);
  }
}
