package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GuestHtabTest {

  @Test
  void sdr1_32_decodesOriginAndSize() {
    GuestHtab h = GuestHtab.forSdr1Book3s32(0x00100003L, 64L << 20);
    assertThat(h.origin()).isEqualTo(0x00100000L);
    assertThat(h.sizeBytes()).isEqualTo(256L * 1024);
  }

  @Test
  void sdr1_32_rejectsAMaskNotOfTheForm2nMinus1() {
    assertThatThrownBy(() -> GuestHtab.forSdr1Book3s32(0x00100005L, 64L << 20))
        .hasMessageStartingWith("sdr1.HTABMASK: 0x5 is not of the form 2^n-1");
  }

  @Test
  void sdr1_32_rejectsAnUnalignedOrigin() {
    assertThatThrownBy(() -> GuestHtab.forSdr1Book3s32(0x00110003L, 64L << 20))
        .hasMessageStartingWith("sdr1.HTABORG: 0x110000 has bits 0x10000 set")
        .hasMessageContaining("aligned to the HTAB size (256 KiB)");
  }

  @Test
  void sdr1_32_rejectsAnHtabBeyondGuestMemory() {
    assertThatThrownBy(() -> GuestHtab.forSdr1Book3s32(0x00FF0000L, 1L << 20))
        .hasMessageContaining("does not fit in guest memory")
        .hasMessageContaining("0x100000");
  }

  @Test
  void sdr1_64_rejectsHtabSizeAbove28_andUnalignedOrigin() {
    assertThatThrownBy(() -> GuestHtab.forSdr1Book3s64(29, 1L << 40))
        .hasMessage("sdr1.HTABSIZE: 29 is out of range; allowed 0 to 28");
    assertThatThrownBy(() -> GuestHtab.forSdr1Book3s64(0x00040001L, 1L << 30))
        .hasMessageStartingWith("sdr1.HTABORG");
  }

  @Test
  void sdr1_64_bigHtabIsSparse() {
    GuestHtab h = GuestHtab.forSdr1Book3s64(0x0000000400000010L, 1L << 40);
    assertThat(h.sizeBytes()).isEqualTo(1L << 34);
    h.setWord(h.origin() + (1L << 33), 42);
    assertThat(h.word(h.origin() + (1L << 33))).isEqualTo(42);
    assertThat(h.word(h.origin())).isZero();
  }

  @Test
  void word_rejectsAddressesOutsideTheHtab() {
    GuestHtab h = GuestHtab.forSdr1Book3s32(0x00100003L, 64L << 20);
    assertThatThrownBy(() -> h.word(0x00200000L)).hasMessageStartingWith("addr: 0x200000");
    assertThatThrownBy(() -> h.word(0x00100002L)).hasMessageContaining("in steps of 4");
  }
}
