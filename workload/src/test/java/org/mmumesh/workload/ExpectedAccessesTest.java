package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExpectedAccessesTest {

  private static long count(AccessSource s) {
    AccessBatch b = new AccessBatch(100);
    long n = 0;
    int k;
    while ((k = s.fill(b)) > 0) {
      n += k;
    }
    return n;
  }

  @Test
  void generatorsAndTraces_reportHowManyAccessesTheyProduce() {
    WorkloadSpec spec = WorkloadParser.parse("uniform:vms=1,pages=64,accesses=1234,seed=3");
    assertThat(spec.sourceFor(0, 0).expectedAccesses()).isEqualTo(1234);
    assertThat(count(spec.sourceFor(0, 0))).isEqualTo(1234);
    LackeyTrace t = LackeyTrace.parse("I  04000000,4\n L 04001000,8\n M 04002000,8\n", "t");
    FoldedTrace f = t.fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 16));
    AccessSource s = f.source(1);
    assertThat(s.expectedAccesses()).isEqualTo(4);
    assertThat(count(f.source(1))).isEqualTo(4);
    assertThat(AccessSource.empty().expectedAccesses()).isEqualTo(-1);
  }
}
