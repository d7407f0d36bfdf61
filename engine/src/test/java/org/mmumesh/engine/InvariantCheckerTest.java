package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Counter;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

class InvariantCheckerTest {
  private final InvariantChecker checker = new InvariantChecker(null, null, new VmRuntime[0]);

  private static VmStats stats(Counter s, long n) {
    VmStats v = new VmStats();
    v.add(s, n);
    return v;
  }

  @Test
  void spuriousC_isRefusedUnderFixedAndStrict_butCountedUnderLegacy() {
    VmStats spurious = stats(Counter.SPURIOUS_C, 3);
    assertThatThrownBy(() -> checker.checkCBits(MmuOptions.defaults(Policy.FIXED), spurious))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("3 C bits set by accesses that were not stores");
    assertThatCode(() -> checker.checkCBits(MmuOptions.defaults(Policy.LEGACY), spurious))
        .doesNotThrowAnyException();
  }

  @Test
  void missedC_isRefusedWithoutQ4_andAcceptedWithIt() {
    VmStats missed = stats(Counter.MISSED_C, 1);
    assertThatThrownBy(() -> checker.checkCBits(MmuOptions.defaults(Policy.STRICT), missed))
        .hasMessageContaining("1 stores completed with the guest C bit clear");
    assertThatCode(() -> checker.checkCBits(MmuOptions.defaults(Policy.FIXED), missed))
        .doesNotThrowAnyException();
  }
}
