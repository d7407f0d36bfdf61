package org.mmumesh.pageframe;

import java.util.Arrays;

/**
 * A VM's host address space (the QEMU process's {@code mm}): one host PTE per host virtual page,
 * packed into an {@code int} (4 bytes per page, no per-page objects). Encoding: {@code 0} = not
 * present; otherwise {@code (pfn + 1)} in the low 31 bits and the writable bit in bit 31. All
 * memory is anonymous; never-touched pages are not present. A few read-only regions model VMAs
 * mapped PROT_READ (spec 5.1, last row): write faults there fail with FAULT.
 */
final class HostMm {
  static final int NONE = 0;

  private int[] pte = new int[0];
  private long[] protReadStart = new long[0];
  private long[] protReadEnd = new long[0];

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
    return hva < pte.length ? pte[(int) hva] : NONE;
  }

  void set(long hva, int value) {
    if (hva >= pte.length) {
      ensureExtent(Math.max(hva + 1, pte.length + (long) (pte.length >> 1)));
    }
    pte[(int) hva] = value;
  }

  /** Makes the PTE array cover host pages {@code [0, pages)}. */
  void ensureExtent(long pages) {
    if (pages > pte.length) {
      pte = Arrays.copyOf(pte, (int) Math.min(pages, Integer.MAX_VALUE - 8));
    }
  }

  /** Number of host pages the PTE array covers; pages beyond are not present. */
  int extent() {
    return pte.length;
  }

  /** The raw PTE array (for whole-mm scans by the invariant checker). */
  int[] rawPtes() {
    return pte;
  }

  void addProtRead(long start, long end) {
    int n = protReadStart.length;
    protReadStart = Arrays.copyOf(protReadStart, n + 1);
    protReadEnd = Arrays.copyOf(protReadEnd, n + 1);
    protReadStart[n] = start;
    protReadEnd[n] = end;
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
