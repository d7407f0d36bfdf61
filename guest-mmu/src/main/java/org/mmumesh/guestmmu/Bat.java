package org.mmumesh.guestmmu;

/**
 * One 32-bit BAT register pair as KVM decodes it in {@code kvmppc_set_bat} (spec 2.7). Upper word:
 * BEPI 0xFFFE0000, BL 0x00001FFC, Vs 0x2, Vp 0x1. Lower word: BRPN 0xFFFE0000, WIMG 0x78, PP 0x3.
 *
 * @param upper the raw upper word
 * @param lower the raw lower word
 */
public record Bat(int upper, int lower) {

  /** An invalid BAT (Vs = Vp = 0). */
  public static final Bat INVALID = new Bat(0, 0);

  /** {@code bl = (upper >>> 2) & 0x7FF}; the block is 128 KiB x (bl + 1). */
  public int bl() {
    return (upper >>> 2) & 0x7FF;
  }

  /** {@code bepiMask = ~bl << 17} (32-bit). */
  public int bepiMask() {
    return ~bl() << 17;
  }

  /** {@code bepi = upper & 0xFFFE0000}. */
  public int bepi() {
    return upper & 0xFFFE0000;
  }

  /** {@code brpn = lower & 0xFFFE0000}. */
  public int brpn() {
    return lower & 0xFFFE0000;
  }

  /** Valid in supervisor state. */
  public boolean vs() {
    return (upper & 0x2) != 0;
  }

  /** Valid in problem state. */
  public boolean vp() {
    return (upper & 0x1) != 0;
  }

  /** The PP field. */
  public int pp() {
    return lower & 0x3;
  }

  /** The block size in bytes. */
  public long blockBytes() {
    return (128L * 1024) * (bl() + 1);
  }
}
