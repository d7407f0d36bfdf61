package org.mmumesh.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FingerprintTest {

  @Test
  void ofBytes_isEqualForEqualBytes_andZeroPaddingIsTheZeroPage() {
    byte[] a = new byte[4096];
    a[17] = 5;
    byte[] b = a.clone();
    assertThat(Fingerprint.ofBytes(a, 0, 4096)).isEqualTo(Fingerprint.ofBytes(b, 0, 4096));
    assertThat(Fingerprint.ofBytes(new byte[3], 0, 3)).isEqualTo(Fingerprint.ZERO);
    byte[] shortPage = {1, 2, 3};
    byte[] fullPage = new byte[4096];
    System.arraycopy(shortPage, 0, fullPage, 0, 3);
    assertThat(Fingerprint.ofBytes(shortPage, 0, 3))
        .isEqualTo(Fingerprint.ofBytes(fullPage, 0, 4096));
  }

  @Test
  void ofBytes_differsWhenOneByteDiffers() {
    byte[] a = new byte[4096];
    byte[] b = new byte[4096];
    b[4095] = 1;
    assertThat(Fingerprint.ofBytes(a, 0, 4096)).isNotEqualTo(Fingerprint.ofBytes(b, 0, 4096));
  }

  @Test
  void mix_isDeterministic_andDistinguishesOffsetsAndValues() {
    long f = Fingerprint.ZERO;
    assertThat(Fingerprint.mix(f, 8, 42)).isEqualTo(Fingerprint.mix(f, 8, 42));
    Set<Long> seen = new HashSet<>();
    for (int off = 0; off < 64; off += 8) {
      for (long v = 0; v < 64; v++) {
        seen.add(Fingerprint.mix(f, off, v));
      }
    }
    assertThat(seen).hasSize(8 * 64);
  }

  @Test
  void ofBytes_rejectsLengthBeyondAPage_namingTheField() {
    assertThatThrownBy(() -> Fingerprint.ofBytes(new byte[5000], 0, 5000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("length")
        .hasMessageContaining("0 to 4096");
  }
}
