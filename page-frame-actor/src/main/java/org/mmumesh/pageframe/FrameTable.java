package org.mmumesh.pageframe;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.mmumesh.common.Fingerprint;

/**
 * Host page frames of one simulated host, as parallel primitive arrays indexed by pfn (no per-frame
 * objects): content fingerprint (8 bytes), map count = number of host PTEs pointing at the frame (4
 * bytes), a generation bumped every time the frame is freed (4 bytes; lets KSM detect a stale
 * stable node, spec 7.6 "keyhole" check) and flags (1 byte): 17 bytes per frame. Arrays grow by
 * half their size when full.
 *
 * <p>Frame {@link #ZERO_PFN} is the shared zero page (content {@link Fingerprint#ZERO}); it is
 * never freed. Free frames are kept on a LIFO list threaded through the fingerprint array, so
 * allocation is deterministic: the most recently freed frame is reused first, otherwise a fresh pfn
 * is taken. Pins (extra page references such as GUP / O_DIRECT, spec 7.4 step 1) are rare and kept
 * in a small map; a pinned frame is not freed when its last mapping goes away.
 */
final class FrameTable {
  static final int ZERO_PFN = 0;
  static final byte F_FREE = 1;
  static final byte F_KSM = 2;
  static final byte F_ZERO = 4;

  /** Largest pfn the table can hold (host PTE encoding keeps pfn + 1 in 31 bits). */
  static final int MAX_PFN = Integer.MAX_VALUE - 2;

  private long[] fingerprint;
  private int[] mapCount;
  private int[] generation;
  private byte[] flags;
  private int top;
  private int freeHead = -1;
  private int allocated;
  private final Map<Integer, Integer> pins = new HashMap<>();

  FrameTable(int initialCapacity) {
    int cap = Math.max(16, initialCapacity);
    fingerprint = new long[cap];
    mapCount = new int[cap];
    generation = new int[cap];
    flags = new byte[cap];
    // Frame 0: the shared zero page.
    top = 1;
    allocated = 1;
    fingerprint[ZERO_PFN] = Fingerprint.ZERO;
    flags[ZERO_PFN] = F_ZERO;
  }

  /** Allocates a frame holding {@code content}; map count 0, no flags. */
  int alloc(long content) {
    int pfn;
    if (freeHead >= 0) {
      pfn = freeHead;
      freeHead = (int) fingerprint[pfn];
    } else {
      if (top > MAX_PFN) {
        throw new IllegalStateException("host frames exhausted: " + top + " frames in use");
      }
      if (top == fingerprint.length) {
        grow();
      }
      pfn = top++;
    }
    fingerprint[pfn] = content;
    mapCount[pfn] = 0;
    flags[pfn] = 0;
    allocated++;
    return pfn;
  }

  private void grow() {
    int cap = (int) Math.min((long) MAX_PFN + 1, fingerprint.length + (fingerprint.length >> 1));
    fingerprint = Arrays.copyOf(fingerprint, cap);
    mapCount = Arrays.copyOf(mapCount, cap);
    generation = Arrays.copyOf(generation, cap);
    flags = Arrays.copyOf(flags, cap);
  }

  /** Frees {@code pfn}: bumps its generation, clears its flags, puts it on the free list. */
  void free(int pfn) {
    if (pfn == ZERO_PFN || (flags[pfn] & F_FREE) != 0 || mapCount[pfn] != 0) {
      throw new IllegalStateException("cannot free pfn " + pfn);
    }
    generation[pfn]++;
    flags[pfn] = F_FREE;
    fingerprint[pfn] = freeHead;
    freeHead = pfn;
    allocated--;
  }

  /** True if {@code pfn} names a frame that exists and is not free. */
  boolean isLive(int pfn) {
    return pfn >= 0 && pfn < top && (flags[pfn] & F_FREE) == 0;
  }

  long fingerprint(int pfn) {
    return fingerprint[pfn];
  }

  void setFingerprint(int pfn, long content) {
    fingerprint[pfn] = content;
  }

  int mapCount(int pfn) {
    return mapCount[pfn];
  }

  /** Increments the map count, returning the new value. */
  int incMap(int pfn) {
    return ++mapCount[pfn];
  }

  /** Decrements the map count, returning the new value. */
  int decMap(int pfn) {
    return --mapCount[pfn];
  }

  int generation(int pfn) {
    return generation[pfn];
  }

  boolean isKsm(int pfn) {
    return (flags[pfn] & F_KSM) != 0;
  }

  boolean isZero(int pfn) {
    return pfn == ZERO_PFN;
  }

  boolean isFree(int pfn) {
    return (flags[pfn] & F_FREE) != 0;
  }

  void setKsm(int pfn) {
    flags[pfn] |= F_KSM;
  }

  /**
   * True if a write through a mapping of {@code pfn} must copy first (do_wp_page): KSM pages are
   * never reused in place (spec 7.6), the zero page is shared by all, and a frame mapped more than
   * once is COW-shared.
   */
  boolean mustCopyOnWrite(int pfn) {
    return (flags[pfn] & (F_KSM | F_ZERO)) != 0 || mapCount[pfn] > 1;
  }

  int pinCount(int pfn) {
    return pins.getOrDefault(pfn, 0);
  }

  void pin(int pfn) {
    pins.merge(pfn, 1, Integer::sum);
  }

  /** Drops a pin, returning the remaining pin count. */
  int unpin(int pfn) {
    int n = pinCount(pfn);
    if (n == 0) {
      throw new IllegalStateException("pfn " + pfn + " is not pinned");
    }
    if (n == 1) {
      pins.remove(pfn);
    } else {
      pins.put(pfn, n - 1);
    }
    return n - 1;
  }

  /** Number of pfns ever handed out (the zero page included); valid pfns are below it. */
  int top() {
    return top;
  }

  /** Frames not on the free list (the zero page included). */
  int allocated() {
    return allocated;
  }

  /** Frames the arrays can hold before growing. */
  int capacity() {
    return fingerprint.length;
  }
}
