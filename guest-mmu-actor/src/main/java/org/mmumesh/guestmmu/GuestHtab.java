package org.mmumesh.guestmmu;

import org.mmumesh.common.Checks;

/**
 * The guest's hashed page table: the words at SDR1's HTAB origin in guest-real memory (spec 2.2,
 * 3.2). The guest MMU core owns these words; what a guest kernel does to them goes through the
 * model classes ({@code enter}, {@code remove}, {@code clearRc}).
 *
 * <p>Storage is sparse: 32 KiB chunks are allocated on first write, so a large 64-bit HTAB costs
 * memory only for the PTEGs in use. Words are stored in a {@code long} each; a 32-bit HTAB keeps
 * its 32-bit words zero-extended. Byte writes follow the big-endian layout the kernel's single-byte
 * R/C updates assume (byte 0 is the most significant).
 */
public final class GuestHtab {
  private static final int CHUNK_SHIFT = 12;
  private static final int CHUNK_WORDS = 1 << CHUNK_SHIFT;

  private final long sdr1;
  private final long origin;
  private final long sizeBytes;
  private final int wordBytes;
  private final int wordShift;
  private final long[][] chunks;
  private long writes;

  private GuestHtab(long sdr1, long origin, long sizeBytes, int wordBytes) {
    this.sdr1 = sdr1;
    this.origin = origin;
    this.sizeBytes = sizeBytes;
    this.wordBytes = wordBytes;
    this.wordShift = Integer.numberOfTrailingZeros(wordBytes);
    long words = sizeBytes >>> wordShift;
    this.chunks = new long[(int) ((words + CHUNK_WORDS - 1) >>> CHUNK_SHIFT)][];
  }

  /**
   * A 32-bit HTAB from SDR1 (spec 2.2): {@code HTABORG = SDR1 & 0xFFFF0000}, {@code HTABMASK = SDR1
   * & 0x1FF}, size 64 KiB x (HTABMASK + 1).
   *
   * @param guestMemoryBytes the guest-real memory size; the HTAB must lie inside it
   * @throws IllegalArgumentException naming the SDR1 field and the allowed values
   */
  public static GuestHtab forSdr1Book3s32(long sdr1, long guestMemoryBytes) {
    Checks.unsignedAtMost("sdr1", sdr1, 0xFFFFFFFFL);
    Checks.bitsClear("sdr1", sdr1, 0x0000FE00L, "bits 0x0000FE00 are reserved and must be 0");
    long mask = sdr1 & 0x1FF;
    if ((mask & (mask + 1)) != 0) {
      throw new IllegalArgumentException(
          "sdr1.HTABMASK: 0x"
              + Long.toHexString(mask)
              + " is not of the form 2^n-1; allowed 0x0, 0x1, 0x3, ... 0x1ff");
    }
    long origin = sdr1 & 0xFFFF0000L;
    Checks.bitsClear(
        "sdr1.HTABORG",
        origin,
        mask << 16,
        "the origin must be aligned to the HTAB size (" + ((mask + 1) * 64) + " KiB)");
    long size = (mask + 1) << 16;
    checkFits(origin, size, guestMemoryBytes);
    return new GuestHtab(sdr1, origin, size, 4);
  }

  /**
   * A 64-bit HTAB from SDR1 (spec 3.2): {@code HTABORG = SDR1 & 0xFFFFFFFFFFFC0000}, {@code
   * HTABSIZE = SDR1 & 0x1F}, 2^(HTABSIZE+11) PTEGs of 128 bytes.
   *
   * @throws IllegalArgumentException naming the SDR1 field and the allowed values
   */
  public static GuestHtab forSdr1Book3s64(long sdr1, long guestMemoryBytes) {
    long htabSize = sdr1 & 0x1F;
    Checks.inRange("sdr1.HTABSIZE", htabSize, 0, 28);
    Checks.bitsClear("sdr1", sdr1, 0x3FFE0L, "bits 0x3FFE0 are reserved and must be 0");
    long origin = sdr1 & 0xFFFFFFFFFFFC0000L;
    long size = 1L << (htabSize + 18);
    Checks.bitsClear(
        "sdr1.HTABORG",
        origin,
        size - 1,
        "the origin must be aligned to the HTAB size (2^" + (htabSize + 18) + " bytes)");
    checkFits(origin, size, guestMemoryBytes);
    return new GuestHtab(sdr1, origin, size, 8);
  }

  private static void checkFits(long origin, long size, long guestMemoryBytes) {
    if (guestMemoryBytes < 0
        || Long.compareUnsigned(origin, guestMemoryBytes) >= 0
        || size > guestMemoryBytes - origin) {
      throw new IllegalArgumentException(
          "sdr1: the HTAB [0x"
              + Long.toHexString(origin)
              + ", 0x"
              + Long.toHexString(origin + size)
              + ") does not fit in guest memory; allowed: it must end at or below 0x"
              + Long.toHexString(guestMemoryBytes));
    }
  }

  /** The SDR1 value this HTAB was built from. */
  public long sdr1() {
    return sdr1;
  }

  /** The guest-real address of the first byte. */
  public long origin() {
    return origin;
  }

  /** The HTAB size in bytes. */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** 4 for a 32-bit HTAB, 8 for a 64-bit one. */
  public int wordBytes() {
    return wordBytes;
  }

  /** True when {@code addr} (a guest-real address) lies inside the HTAB. */
  public boolean contains(long addr) {
    return Long.compareUnsigned(addr - origin, sizeBytes) < 0;
  }

  /** The number of word writes so far (a cheap change detector for tests). */
  public long writes() {
    return writes;
  }

  private int index(long addr) {
    long off = addr - origin;
    if (Long.compareUnsigned(off, sizeBytes) >= 0 || (off & (wordBytes - 1)) != 0) {
      throw new IllegalArgumentException(
          "addr: 0x"
              + Long.toHexString(addr)
              + " is not an aligned HTAB word; allowed 0x"
              + Long.toHexString(origin)
              + " to 0x"
              + Long.toHexString(origin + sizeBytes - wordBytes)
              + " in steps of "
              + wordBytes);
    }
    return (int) (off >>> wordShift);
  }

  /** The word at guest-real address {@code addr} (zero-extended for 32-bit words). */
  public long word(long addr) {
    int i = index(addr);
    long[] c = chunks[i >>> CHUNK_SHIFT];
    return c == null ? 0 : c[i & (CHUNK_WORDS - 1)];
  }

  /** Writes the word at {@code addr}; a 32-bit HTAB keeps the low 32 bits. */
  public void setWord(long addr, long value) {
    int i = index(addr);
    long[] c = chunks[i >>> CHUNK_SHIFT];
    if (c == null) {
      if (value == 0) {
        return;
      }
      c = new long[CHUNK_WORDS];
      chunks[i >>> CHUNK_SHIFT] = c;
    }
    c[i & (CHUNK_WORDS - 1)] = wordBytes == 4 ? value & 0xFFFFFFFFL : value;
    writes++;
  }

  /**
   * A single-byte store at byte {@code byteOffset} of the word at {@code wordAddr}, big-endian, as
   * the kernel's {@code put_user} R/C updates do (spec 2.6, 3.6).
   */
  public void writeByte(long wordAddr, int byteOffset, int value) {
    int shift = (wordBytes - 1 - byteOffset) * 8;
    long w = word(wordAddr);
    setWord(wordAddr, (w & ~(0xFFL << shift)) | ((value & 0xFFL) << shift));
  }
}
