package org.mmumesh.guestmmu;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import java.util.Arrays;
import java.util.List;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.PackedArrays;
import org.mmumesh.checkpoint.v1.GuestMmuState;
import org.mmumesh.checkpoint.v1.HtabChunk;
import org.mmumesh.common.Checks;

/**
 * The guest's hashed page table as one SDR1 value names it: a view of the HTAB at SDR1's origin in
 * the VM's guest-real memory (spec 2.2, 3.2). The guest MMU core owns these words; what a guest
 * kernel does to them goes through the model classes ({@code enter}, {@code remove}, {@code
 * clearRc}).
 *
 * <p><b>Guest memory, not a table.</b> The words live in the VM's guest-real memory, which every
 * view of that VM shares ({@link #withSdr1}): a guest that points SDR1 elsewhere ({@code mtspr
 * SDR1}, per vCPU in PR KVM: {@code to_book3s(vcpu)->sdr1}) searches the words at the new origin,
 * and the words it wrote at the old origin stay where they are, so switching back finds them again;
 * two tables that overlap share their words. Only HTAB words are modelled (page contents live in
 * the host's page frames): a word nobody wrote reads 0.
 *
 * <p>Storage is sparse, keyed by guest-real address: 4096-word chunks (16 KiB of 32-bit words, 32
 * KiB of 64-bit ones) in 16 MiB regions are allocated on first non-zero write, so a large 64-bit
 * HTAB costs memory only for the PTEGs in use. Words are stored in a {@code long} each; a 32-bit
 * guest keeps its 32-bit words zero-extended. Byte writes follow the big-endian layout the kernel's
 * single-byte R/C updates assume (byte 0 is the most significant). Not thread-safe: one VM's actor
 * owns it.
 */
public final class GuestHtab {
  private static final int CHUNK_SHIFT = 12;
  private static final int CHUNK_WORDS = 1 << CHUNK_SHIFT;

  /** Receives one stored word ({@link #forEachNonZeroWord}). */
  @FunctionalInterface
  public interface WordVisitor {
    void word(long guestRealAddr, long value);
  }

  /**
   * The VM's guest-real memory as far as HTAB words go, shared by every view of the VM: a two-level
   * radix over guest-real addresses. 16 MiB regions (in a hash map, the last one used cached, so a
   * search within one table never hashes) hold arrays of chunk references; chunks hold the words.
   */
  private static final class Memory {
    static final int REGION_SHIFT = 24;

    final int wordBytes;
    final int wordShift;
    final int chunkShift;
    final int chunkMask;
    final long bytes;
    final Long2ObjectOpenHashMap<long[][]> regions = new Long2ObjectOpenHashMap<>();
    long writes;
    long lastKey = -1;
    long[][] lastRegion;

    Memory(int wordBytes, long bytes) {
      this.wordBytes = wordBytes;
      this.wordShift = Integer.numberOfTrailingZeros(wordBytes);
      this.chunkShift = wordShift + CHUNK_SHIFT;
      this.chunkMask = (1 << (REGION_SHIFT - chunkShift)) - 1;
      this.bytes = bytes;
    }

    /** The region holding {@code addr}, or null when nothing was written in it. */
    long[][] region(long addr) {
      long key = addr >>> REGION_SHIFT;
      if (key != lastKey) {
        lastRegion = regions.get(key);
        lastKey = key;
      }
      return lastRegion;
    }

    long word(long addr) {
      long[][] r = region(addr);
      if (r == null) {
        return 0;
      }
      long[] c = r[(int) (addr >>> chunkShift) & chunkMask];
      return c == null ? 0 : c[(int) (addr >>> wordShift) & (CHUNK_WORDS - 1)];
    }

    void setWord(long addr, long value) {
      long[][] r = region(addr);
      if (r == null) {
        if (value == 0) {
          return;
        }
        r = new long[chunkMask + 1][];
        regions.put(addr >>> REGION_SHIFT, r);
        lastRegion = r;
      }
      int ci = (int) (addr >>> chunkShift) & chunkMask;
      long[] c = r[ci];
      if (c == null) {
        if (value == 0) {
          return;
        }
        c = new long[CHUNK_WORDS];
        r[ci] = c;
      }
      c[(int) (addr >>> wordShift) & (CHUNK_WORDS - 1)] =
          wordBytes == 4 ? value & 0xFFFFFFFFL : value;
      writes++;
    }
  }

  private final Memory memory;
  private final long sdr1;
  private final long origin;
  private final long sizeBytes;

  private GuestHtab(Memory memory, long sdr1, long origin, long sizeBytes) {
    this.memory = memory;
    this.sdr1 = sdr1;
    this.origin = origin;
    this.sizeBytes = sizeBytes;
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
    return new GuestHtab(new Memory(4, guestMemoryBytes), sdr1, origin, size);
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
    return new GuestHtab(new Memory(8, guestMemoryBytes), sdr1, origin, size);
  }

  /**
   * The HTAB {@code sdr1} names in the same guest memory as this one (what the guest sees after
   * {@code mtspr SDR1}): validated by the rules of this table's kind ({@link #forSdr1Book3s32} or
   * {@link #forSdr1Book3s64}), sharing every word already written. Changes nothing.
   *
   * @throws IllegalArgumentException naming the SDR1 field and the allowed values (reserved bits,
   *     HTABMASK form, HTABSIZE 0 to 28, origin alignment, the table inside guest memory)
   */
  public GuestHtab withSdr1(long sdr1) {
    GuestHtab checked =
        memory.wordBytes == 4
            ? forSdr1Book3s32(sdr1, memory.bytes)
            : forSdr1Book3s64(sdr1, memory.bytes);
    return new GuestHtab(memory, sdr1, checked.origin, checked.sizeBytes);
  }

  /** True when this view and {@code other} are tables in the same guest memory. */
  public boolean sameMemoryAs(GuestHtab other) {
    return other != null && other.memory == memory;
  }

  /** The guest-real memory size the table must fit in. */
  public long guestMemoryBytes() {
    return memory.bytes;
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
    return memory.wordBytes;
  }

  /** True when {@code addr} (a guest-real address) lies inside the HTAB. */
  public boolean contains(long addr) {
    return Long.compareUnsigned(addr - origin, sizeBytes) < 0;
  }

  /**
   * The number of HTAB word writes so far in this VM's guest memory, through any view (a cheap
   * change detector for tests).
   */
  public long writes() {
    return memory.writes;
  }

  /**
   * Visits every non-zero HTAB word of the VM's guest memory in address order: this table's and
   * those of every other SDR1 value the VM's vCPUs used. Changes nothing.
   */
  public void forEachNonZeroWord(WordVisitor visitor) {
    long[] keys = memory.regions.keySet().toLongArray();
    Arrays.sort(keys);
    for (long key : keys) {
      long[][] r = memory.regions.get(key);
      for (int ci = 0; ci < r.length; ci++) {
        long[] c = r[ci];
        if (c == null) {
          continue;
        }
        long base = (key << Memory.REGION_SHIFT) + ((long) ci << memory.chunkShift);
        for (int i = 0; i < CHUNK_WORDS; i++) {
          if (c[i] != 0) {
            visitor.word(base + ((long) i << memory.wordShift), c[i]);
          }
        }
      }
    }
  }

  // ---- Checkpoint (style rule 26)
  // ----------------------------------------------------------------

  /**
   * Writes the VM's guest memory as far as HTAB words go: every 4096-word chunk holding a non-zero
   * word, in address order (all-zero chunks are left out: a word nobody wrote reads 0 either way),
   * and the write count. Changes nothing. The region cache ({@code lastKey}, {@code lastRegion}) is
   * derived and not written.
   */
  void checkpointWords(GuestMmuState.Builder b) {
    long[] keys = memory.regions.keySet().toLongArray();
    Arrays.sort(keys);
    for (long key : keys) {
      long[][] r = memory.regions.get(key);
      for (int ci = 0; ci < r.length; ci++) {
        long[] c = r[ci];
        if (c == null || allZero(c)) {
          continue;
        }
        long base = (key << Memory.REGION_SHIFT) + ((long) ci << memory.chunkShift);
        b.addHtabChunks(
            HtabChunk.newBuilder()
                .setGuestRealAddr(base)
                .setWordsLe(PackedArrays.longs(c, 0, c.length)));
      }
    }
    b.setHtabWordWrites(memory.writes);
  }

  private static boolean allZero(long[] c) {
    for (long w : c) {
      if (w != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Decodes and checks {@code chunks} (aligned, inside guest memory, ascending, 4096 words each,
   * 32-bit words fitting 32 bits) without changing anything; {@link #restoreWords} installs them.
   *
   * @throws CheckpointMismatchException naming the chunk's field and the allowed values
   */
  long[][] decodeWords(List<HtabChunk> chunks) {
    long[][] words = new long[chunks.size()][];
    long chunkBytes = 1L << memory.chunkShift;
    long prev = -1;
    for (int i = 0; i < chunks.size(); i++) {
      HtabChunk c = chunks.get(i);
      String field = "htab_chunks[" + i + "]";
      long addr = c.getGuestRealAddr();
      if ((addr & (chunkBytes - 1)) != 0
          || Long.compareUnsigned(addr, memory.bytes) >= 0
          || (prev >= 0 && Long.compareUnsigned(addr, prev) <= 0)) {
        throw new CheckpointMismatchException(
            field
                + ".guest_real_addr: 0x"
                + Long.toHexString(addr)
                + " is not allowed; allowed: ascending multiples of 0x"
                + Long.toHexString(chunkBytes)
                + " below the guest memory size 0x"
                + Long.toHexString(memory.bytes));
      }
      prev = addr;
      PackedArrays.count(field + ".words_le", c.getWordsLe(), Long.BYTES, CHUNK_WORDS);
      long[] w = new long[CHUNK_WORDS];
      PackedArrays.readLongs(c.getWordsLe(), w, 0, CHUNK_WORDS);
      if (memory.wordBytes == 4) {
        for (int k = 0; k < w.length; k++) {
          if ((w[k] >>> 32) != 0) {
            throw new CheckpointMismatchException(
                field + ".words_le: word " + k + " exceeds 32 bits; allowed 0 to 0xffffffff");
          }
        }
      }
      words[i] = w;
    }
    return words;
  }

  /**
   * Replaces the VM's HTAB words with {@code words} (from {@link #decodeWords}, same order as
   * {@code chunks}) and sets the write count.
   */
  void restoreWords(List<HtabChunk> chunks, long[][] words, long writes) {
    memory.regions.clear();
    memory.lastKey = -1;
    memory.lastRegion = null;
    for (int i = 0; i < words.length; i++) {
      long addr = chunks.get(i).getGuestRealAddr();
      long[][] r = memory.regions.get(addr >>> Memory.REGION_SHIFT);
      if (r == null) {
        r = new long[memory.chunkMask + 1][];
        memory.regions.put(addr >>> Memory.REGION_SHIFT, r);
      }
      r[(int) (addr >>> memory.chunkShift) & memory.chunkMask] = words[i];
    }
    memory.writes = writes;
  }

  private void checkWord(long addr) {
    int wordBytes = memory.wordBytes;
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
  }

  /**
   * The word at guest-real address {@code addr} (zero-extended for 32-bit words).
   *
   * @throws IllegalArgumentException when {@code addr} is not an aligned word of this table
   */
  public long word(long addr) {
    checkWord(addr);
    return memory.word(addr);
  }

  /**
   * Writes the word at {@code addr}; a 32-bit HTAB keeps the low 32 bits.
   *
   * @throws IllegalArgumentException when {@code addr} is not an aligned word of this table
   */
  public void setWord(long addr, long value) {
    checkWord(addr);
    memory.setWord(addr, value);
  }

  /**
   * A single-byte store at byte {@code byteOffset} of the word at {@code wordAddr}, big-endian, as
   * the kernel's {@code put_user} R/C updates do (spec 2.6, 3.6).
   */
  public void writeByte(long wordAddr, int byteOffset, int value) {
    int shift = (memory.wordBytes - 1 - byteOffset) * 8;
    long w = word(wordAddr);
    setWord(wordAddr, (w & ~(0xFFL << shift)) | ((value & 0xFFL) << shift));
  }
}
