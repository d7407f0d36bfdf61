package org.mmumesh.pageframe;

import java.util.Arrays;

/**
 * A VM's host address space (the QEMU process's {@code mm}): one host PTE per host virtual page,
 * packed into an {@code int} (4 bytes per page, no per-page objects), in chunks of 2^16 pages
 * allocated on first use so sparse address spaces cost nothing. Encoding: {@code 0} = not present;
 * otherwise {@code (pfn + 1)} in the low 31 bits and the writable bit in bit 31. All memory is
 * anonymous; never-touched pages are not present. A few read-only regions model VMAs mapped
 * PROT_READ (spec 5.1, last row): write faults there fail with FAULT.
 */
final class HostMm {
  static final int NONE = 0;

  /** Host pages per PTE chunk (2^16: 256 KiB of PTEs); chunks are allocated on first use. */
  static final int CHUNK_SHIFT = 16;

  static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;
  private static final int CHUNK_MASK = CHUNK_PAGES - 1;

  private int[][] chunks = new int[0][];
  private long[] protReadStart = new long[0];
  private long[] protReadEnd = new long[0];

  /** Set while a {@link FrameAudit} is attached: told the old PTE of every hva set. */
  FrameAudit audit;

  /** This address space's VM (for the audit). */
  int vmId;

  static int encode(int pfn, boolean writable) {
    return (pfn + 1) | (writable ? Integer.MIN_VALUE : 0);
  }

  static int pfnOf(int pte) {
    return (pte & Integer.MAX_VALUE) - 1;
  }

  static boolean isWritable(int pte) {
    return pte < 0;
  }

  int get(long hva) {
    long c = hva >>> CHUNK_SHIFT;
    if (c >= chunks.length) {
      return NONE;
    }
    int[] chunk = chunks[(int) c];
    return chunk == null ? NONE : chunk[(int) hva & CHUNK_MASK];
  }

  void set(long hva, int value) {
    if (audit != null) {
      audit.pteChanging(vmId, hva, get(hva));
    }
    int c = (int) (hva >>> CHUNK_SHIFT);
    if (c >= chunks.length) {
      chunks = Arrays.copyOf(chunks, Math.max(c + 1, chunks.length + (chunks.length >> 1)));
    }
    int[] chunk = chunks[c];
    if (chunk == null) {
      if (value == NONE) {
        return;
      }
      chunk = chunks[c] = new int[CHUNK_PAGES];
    }
    chunk[(int) hva & CHUNK_MASK] = value;
  }

  /** Number of PTE chunks (chunk {@code i} covers host pages from {@code i << CHUNK_SHIFT}). */
  int chunkCount() {
    return chunks.length;
  }

  /** Chunk {@code i}, or null if no PTE in it was ever set. */
  int[] chunk(int i) {
    return chunks[i];
  }

  /** One past the highest host page any chunk covers; pages beyond are not present. */
  long extent() {
    return (long) chunks.length << CHUNK_SHIFT;
  }

  /**
   * The first host page in {@code [from, end)} whose PTE is present and does not map {@code
   * skipPfn}, or -1.
   */
  long nextPresent(long from, long end, int skipPfn) {
    long stop = Math.min(end, extent());
    long h = Math.max(0, from);
    int skip = skipPfn + 1;
    while (h < stop) {
      int[] chunk = chunks[(int) (h >>> CHUNK_SHIFT)];
      long chunkEnd = Math.min(stop, ((h >>> CHUNK_SHIFT) + 1) << CHUNK_SHIFT);
      if (chunk != null) {
        for (int i = (int) h & CHUNK_MASK, e = i + (int) (chunkEnd - h); i < e; i++) {
          int pte = chunk[i];
          if (pte != NONE && (pte & Integer.MAX_VALUE) != skip) {
            return (h & ~(long) CHUNK_MASK) + i;
          }
        }
      }
      h = chunkEnd;
    }
    return -1;
  }

  void addProtRead(long start, long end) {
    int n = protReadStart.length;
    protReadStart = Arrays.copyOf(protReadStart, n + 1);
    protReadEnd = Arrays.copyOf(protReadEnd, n + 1);
    protReadStart[n] = start;
    protReadEnd[n] = end;
  }

  /** The PROT_READ regions' starts, in the order added (a copy; for the checkpoint). */
  long[] protReadStarts() {
    return protReadStart.clone();
  }

  /** The PROT_READ regions' ends, beside {@link #protReadStarts()}. */
  long[] protReadEnds() {
    return protReadEnd.clone();
  }

  /** Restores the PROT_READ regions (checkpoint): {@code starts[i], ends[i]} in order. */
  void restoreProtRead(long[] starts, long[] ends) {
    protReadStart = starts.clone();
    protReadEnd = ends.clone();
  }

  /** Installs PTE chunk {@code i} as it is (checkpoint restore; no audit is attached yet). */
  void restoreChunk(int i, int[] ptes) {
    if (i >= chunks.length) {
      chunks = Arrays.copyOf(chunks, i + 1);
    }
    chunks[i] = ptes;
  }

  boolean isProtRead(long hva) {
    for (int i = 0; i < protReadStart.length; i++) {
      if (hva >= protReadStart[i] && hva < protReadEnd[i]) {
        return true;
      }
    }
    return false;
  }
}
