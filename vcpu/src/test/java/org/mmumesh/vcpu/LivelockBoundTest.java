package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link LivelockBound}: own faults against the bound, forced ones apart, per access. */
class LivelockBoundTest {

  @Test
  void ownFaults_failTheAccessPastTheBound_andANewAccessStartsAfresh() {
    LivelockBound b = new LivelockBound(3);
    b.startAccess();
    for (int i = 0; i < 3; i++) {
      assertThat(b.admit(false)).isNull();
    }
    assertThat(b.admit(false)).isEqualTo("livelock: more than 3 faults");
    b.startAccess();
    assertThat(b.faults()).isZero();
    assertThat(b.admit(false)).isNull();
  }

  @Test
  void forcedFaults_doNotCount_butAreBoundedAtTheFactor() {
    LivelockBound b = new LivelockBound(2);
    b.startAccess();
    for (int i = 0; i < 2 * LivelockBound.FORCED_FACTOR; i++) {
      assertThat(b.admit(true)).isNull();
    }
    assertThat(b.admit(false)).isNull();
    assertThat(b.admit(false)).isNull();
    assertThat(b.faults()).isEqualTo(2);
    assertThat(b.forced()).isEqualTo(2 * LivelockBound.FORCED_FACTOR);
    assertThat(b.admit(true))
        .isEqualTo(
            "livelock: more than "
                + 2 * LivelockBound.FORCED_FACTOR
                + " faults forced by other notifiers' flushes");
  }

  @Test
  void theBound_isChecked() {
    assertThatThrownBy(() -> new LivelockBound(0))
        .hasMessage("maxFaults: 0 is out of range; allowed 1 to 1000");
  }
}
