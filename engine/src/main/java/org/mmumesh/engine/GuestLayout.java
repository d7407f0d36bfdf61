package org.mmumesh.engine;

import org.mmumesh.workload.MmuKind;

/**
 * Where a guest's HTAB lives in its guest-real memory: above the workload's pages (gfn {@code p} is
 * window page {@code p}), aligned to its size, sized for about two PTEGs' worth of slots per four
 * pages (a load factor near one half), within each MMU's limits (spec 2.2, 3.2).
 *
 * @param sdr1 the SDR1 value
 * @param htabOrigin the HTAB's guest-real address
 * @param htabBytes its size
 * @param memoryPages guest-real memory in pages (the workload's pages plus the HTAB)
 */
public record GuestLayout(long sdr1, long htabOrigin, long htabBytes, long memoryPages) {

  public static GuestLayout of(MmuKind kind, long pages) {
    long wantPtegs = Math.max(1, pages / 4);
    long bytes;
    long sdr1Size;
    if (kind == MmuKind.BOOK3S_32) {
      long groups = Math.min(512, ceilPow2((wantPtegs + 1023) / 1024)); // 64 KiB units
      bytes = groups << 16;
      sdr1Size = groups - 1;
    } else {
      long ptegs = Math.max(2048, ceilPow2(wantPtegs));
      int htabSize = Long.numberOfTrailingZeros(ptegs) - 11;
      htabSize = Math.min(htabSize, 28);
      bytes = 1L << (htabSize + 18);
      sdr1Size = htabSize;
    }
    long origin = ((pages << 12) + bytes - 1) & -bytes;
    return new GuestLayout(origin | sdr1Size, origin, bytes, (origin + bytes) >>> 12);
  }

  private static long ceilPow2(long n) {
    return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
  }
}
