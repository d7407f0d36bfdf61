package org.mmumesh.guestmmu;

import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/** The fixtures of spec section 8. */
final class Fixtures {
  private Fixtures() {}

  static final long MEM = 64L << 20;

  /** F32: SDR1 0x00100003, SR[0] = 0x20000123 (Ks=0, Kp=1, VSID 0x123), IR=DR=1. */
  static Hash32Mmu f32(Policy policy) {
    return f32(MmuOptions.defaults(policy));
  }

  static Hash32Mmu f32(MmuOptions options) {
    return new Hash32Mmu(GuestHtab.forSdr1Book3s32(0x00100003L, MEM), options);
  }

  static Cpu32State cpu32(boolean pr) {
    return new Cpu32State().mtsrin(0, 0x20000123L).setMsr(pr, true, true);
  }

  /** F64: SDR1 0x01000000; ESID 1 -> VSID 0x1234, ESID 2 -> VSID 0xABCDE (Ks=0, Kp=1). */
  static Hash64Mmu f64(Policy policy) {
    return f64(MmuOptions.defaults(policy));
  }

  static Hash64Mmu f64(MmuOptions options) {
    return new Hash64Mmu(GuestHtab.forSdr1Book3s64(0x0000000001000000L, MEM), options);
  }

  static Cpu64State cpu64(boolean pr) {
    return new Cpu64State()
        .setSegment(0, 1, 0x1234, false, true)
        .setSegment(1, 2, 0xABCDE, false, true)
        .setMsr(pr, true, true);
  }

  /** Writes the TV09-TV11 HPTE: word0 0x80009180 at PTEG 0x00109980, word1 0x00ABC010|pp. */
  static long put32(Hash32Mmu mmu, int pp) {
    mmu.htab().setWord(0x00109980L, 0x80009180L);
    mmu.htab().setWord(0x00109984L, 0x00ABC010L | pp);
    return 0x00109980L;
  }
}
