package org.mmumesh.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PolicyTest {

  @Test
  void parse_acceptsAnyCase() {
    assertThat(Policy.parse("Legacy")).isEqualTo(Policy.LEGACY);
    assertThat(Policy.parse(" strict ")).isEqualTo(Policy.STRICT);
  }

  @Test
  void parse_rejectsUnknownPolicy_listingTheAllowedValues() {
    assertThatThrownBy(() -> Policy.parse("lenient"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("policy: 'lenient' is not a policy; allowed: legacy, fixed, strict");
  }

  @Test
  void defaults_fixedCarriesTheKernelsQuirks_strictNone_q1NowhereByDefault() {
    assertThat(MmuOptions.defaults(Policy.FIXED).quirks())
        .containsExactlyInAnyOrder(
            Quirk.Q2_SECONDARY_HIDES_EPERM,
            Quirk.Q3_BAT_PP3_WRITABLE,
            Quirk.Q4_C_CAN_BE_MISSED,
            Quirk.Q5_HOST32_INSERTION,
            Quirk.Q7_MAP_FAILURE_LOOPS,
            Quirk.Q8_NOTIFIER_FULL_FLUSH);
    assertThat(MmuOptions.defaults(Policy.LEGACY).has(Quirk.Q2_SECONDARY_HIDES_EPERM)).isFalse();
    assertThat(MmuOptions.defaults(Policy.STRICT).quirks()).isEmpty();
    for (Policy p : Policy.values()) {
      assertThat(MmuOptions.defaults(p).has(Quirk.Q1_RC_LOST)).isFalse();
    }
    assertThat(MmuOptions.defaults(Policy.FIXED).with(Quirk.Q1_RC_LOST, true).describe())
        .isEqualTo("fixed[q1,q2,q3,q4,q5,q7,q8]");
  }

  @Test
  void quirkParse_rejectsUnknown() {
    assertThat(Quirk.parse("Q2")).isEqualTo(Quirk.Q2_SECONDARY_HIDES_EPERM);
    assertThatThrownBy(() -> Quirk.parse("q99"))
        .hasMessageContaining("allowed: q1, q2, q3, q4, q5, q7, q8");
  }
}
