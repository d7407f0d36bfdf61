package org.mmumesh.common;

/**
 * Page contents as 64-bit fingerprints (architecture section 1). A simulated frame holds a
 * fingerprint instead of 4096 bytes: equal bytes give equal fingerprints, a store of value {@code
 * v} at offset {@code o} turns fingerprint {@code f} into {@link #mix(long, int, long)}, and a load
 * returns {@link #loadWord(long, int)}. KSM compares fingerprints.
 *
 * <p><b>Collision bound.</b> The mixing functions are bijective-avalanche 64-bit mixers (the
 * SplitMix64 / Stafford variant 13 finaliser), so distinct contents behave as independent uniform
 * 64-bit values. Among {@code n} distinct page contents the probability that any two share a
 * fingerprint is at most {@code n*(n-1)/2^65}: below 4e-6 for 16 M distinct pages, below 2.7e-2 for
 * 1 G. A collision would make KSM merge two pages whose bytes differ; the simulator accepts that
 * bound in exchange for keeping a page to a few bytes.
 */
public final class Fingerprint {
  private Fingerprint() {}

  /** Bytes per page. */
  public static final int PAGE_BYTES = 4096;

  /** The fingerprint of a page of 4096 zero bytes (the shared zero page's content). */
  public static final long ZERO = ofBytes(new byte[PAGE_BYTES], 0, PAGE_BYTES);

  /** The SplitMix64 finaliser: a bijective mixer with full avalanche. */
  public static long avalanche(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * The content after storing {@code value} at byte offset {@code offset} of a page whose content
   * was {@code f}. Deterministic; two different stores to the same content give different results
   * (up to the collision bound).
   */
  public static long mix(long f, int offset, long value) {
    long h = avalanche(f + 0x9E3779B97F4A7C15L * (offset + 1L));
    return avalanche(h ^ avalanche(value ^ 0xD6E8FEB86659FD93L));
  }

  /** The word a load at {@code offset} returns from a page with content {@code f}. */
  public static long loadWord(long f, int offset) {
    return avalanche(f ^ (0xA0761D6478BD642FL * (offset + 1L)));
  }

  /**
   * The fingerprint of {@code length} bytes of {@code data} from {@code from}, padded with zero
   * bytes to a whole page: equal page bytes give equal fingerprints.
   */
  public static long ofBytes(byte[] data, int from, int length) {
    if (length < 0 || length > PAGE_BYTES || from < 0 || from + length > data.length) {
      throw new IllegalArgumentException(
          "length: " + length + " is out of range; allowed 0 to " + PAGE_BYTES);
    }
    long h = 0x243F6A8885A308D3L;
    int i = 0;
    for (; i + 8 <= length; i += 8) {
      long w = 0;
      for (int b = 7; b >= 0; b--) {
        w = (w << 8) | (data[from + i + b] & 0xFFL);
      }
      h = avalanche(h ^ w) + i;
    }
    if (i < length) {
      long w = 0;
      for (int b = length - 1; b >= i; b--) {
        w = (w << 8) | (data[from + b] & 0xFFL);
      }
      h = avalanche(h ^ w) + i;
      i += 8;
    }
    // Zero padding to the whole page, folded in closed form per 8-byte word.
    for (; i < PAGE_BYTES; i += 8) {
      h = avalanche(h) + i;
    }
    return avalanche(h ^ PAGE_BYTES);
  }
}
