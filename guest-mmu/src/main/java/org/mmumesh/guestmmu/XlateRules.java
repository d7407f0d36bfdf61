package org.mmumesh.guestmmu;

import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;

/**
 * The policy-dependent decisions shared by the 32-bit and 64-bit xlate (spec section 1, rows 3, 4,
 * 13, 14; spec 2.6 and 3.6), plus the single-byte R/C write both models perform. One place decides
 * them, so the two models cannot drift apart.
 */
final class XlateRules {
  private final boolean legacy;
  private final boolean rcLost;

  XlateRules(MmuOptions options) {
    this.legacy = options.policy() == Policy.LEGACY;
    this.rcLost = options.has(Quirk.Q1_RC_LOST);
  }

  boolean legacy() {
    return legacy;
  }

  /** Row 4: R is set whenever the entry is readable, whatever the access (even a refused store). */
  static boolean setsR(boolean mayRead) {
    return mayRead;
  }

  /** Row 3: legacy sets C whenever the HPTE allows writing; from the change on, only on stores. */
  boolean setsC(boolean iswrite, boolean mayWrite) {
    return legacy ? mayWrite : iswrite && mayWrite;
  }

  /**
   * Rows 13/14: legacy refuses only unreadable entries (the 32-bit legacy search skips those before
   * it gets here); from the change on, a store to a page without write permission is refused too.
   */
  boolean refuses(boolean iswrite, boolean mayRead, boolean mayWrite) {
    return legacy ? !mayRead : !mayRead || (iswrite && !mayWrite);
  }

  /**
   * Sets R and C in the guest HPTE's second word as the kernel does: one byte each, computed from
   * the copy {@code w1} the walk read (spec 2.6 / 3.6). Writes nothing when {@code guestVisible} is
   * false or quirk Q1 (writes lost) is on.
   *
   * @return the second word as the guest HPT holds it afterwards
   */
  long updateRc(
      GuestHtab htab,
      long w1Addr,
      long w1,
      RcLayout layout,
      boolean setR,
      boolean setC,
      boolean guestVisible) {
    if (!guestVisible) {
      return w1;
    }
    long v = w1;
    if (setR && (v & layout.r) == 0) {
      v |= layout.r;
      if (!rcLost) {
        htab.writeByte(w1Addr, layout.rByte, (int) (v >>> 8));
      }
    }
    if (setC && (v & layout.c) == 0) {
      v |= layout.c;
      if (!rcLost) {
        htab.writeByte(w1Addr, layout.cByte, (int) v);
      }
    }
    return rcLost ? w1 : htab.word(w1Addr);
  }

  /** Where R and C sit in an HPTE's second word, and which bytes the kernel writes. */
  enum RcLayout {
    /** 32-bit: R 0x100 via byte 2, C 0x80 via byte 3 of word 1 (spec 2.6). */
    BOOK3S_32(0x100, 0x80, 2, 3),
    /** 64-bit: R 0x100 via byte 6, C 0x80 via byte 7 of doubleword 1 (spec 3.6). */
    BOOK3S_64(0x100, 0x80, 6, 7);

    final long r;
    final long c;
    final int rByte;
    final int cByte;

    RcLayout(long r, long c, int rByte, int cByte) {
      this.r = r;
      this.c = c;
      this.rByte = rByte;
      this.cByte = cByte;
    }
  }
}
