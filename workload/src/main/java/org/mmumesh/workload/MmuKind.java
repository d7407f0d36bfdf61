package org.mmumesh.workload;

import org.mmumesh.common.Checks;

/**
 * The guest MMU a workload is written for (spec section 2 for 32-bit, section 3 for 64-bit), and
 * the <b>guest linear-map window</b> its effective addresses fall in.
 *
 * <p><b>The EA window.</b> Every generated access lies in {@code [LINEAR_MAP_BASE, LINEAR_MAP_BASE
 * + pages * 4096)}. The simulator's guest kernel model maps EA page {@code p} of that window to gfn
 * {@code p} (guest-real address {@code ea - LINEAR_MAP_BASE}), so accesses stay within guest
 * memory. The base is {@code 0x10000000} for both kinds: segment 0 ({@code ea >>> 28 == 0}) is left
 * unmapped so a stray null-page access faults, and the window starts on a 256 MiB segment boundary
 * (spec 2.1, 3.1). A 32-bit guest's window must end at or below 4 GiB, which bounds its memory to
 * {@link #maxGuestPages()} = 983,040 pages (3.75 GiB); a 64-bit guest may have up to 2^36 pages.
 */
public enum MmuKind {
  /** 32-bit Book3S (750/74xx class): 16 segment registers, BATs; data words of 4 bytes. */
  BOOK3S_32(4, (0x1_0000_0000L - 0x1000_0000L) >>> 12),
  /** 64-bit Book3S (970/POWER class): SLB; data words of 8 bytes. */
  BOOK3S_64(8, 1L << 36);

  /** The first effective address of the guest linear map (gfn 0), for either kind. */
  public static final long LINEAR_MAP_BASE = 0x1000_0000L;

  /** Bytes per page of the EA window (4 KiB pages, spec 2.4 / 3.3). */
  public static final int PAGE_BYTES = 4096;

  /** log2 of {@link #PAGE_BYTES}. */
  public static final int PAGE_SHIFT = 12;

  private final int wordBytes;
  private final long maxGuestPages;

  MmuKind(int wordBytes, long maxGuestPages) {
    this.wordBytes = wordBytes;
    this.maxGuestPages = maxGuestPages;
  }

  /** The size in bytes of a generated data access (a natural word: 4 or 8). */
  public int wordBytes() {
    return wordBytes;
  }

  /** The largest guest memory, in pages, whose EA window fits this kind's address space. */
  public long maxGuestPages() {
    return maxGuestPages;
  }

  /** The base EA of the linear-map window: {@link #LINEAR_MAP_BASE}. */
  public long linearMapBase() {
    return LINEAR_MAP_BASE;
  }

  /** The effective address of byte {@code offset} of window page {@code page} (gfn). */
  public long eaOf(long page, int offset) {
    return LINEAR_MAP_BASE + (page << PAGE_SHIFT) + offset;
  }

  /** The CLI spelling: {@code "32"} or {@code "64"}. */
  public String cliName() {
    return this == BOOK3S_32 ? "32" : "64";
  }

  /** Parses the CLI spelling {@code 32} or {@code 64}; the error names the key {@code mmu}. */
  public static MmuKind fromCli(String text) {
    return switch (text) {
      case "32" -> BOOK3S_32;
      case "64" -> BOOK3S_64;
      default ->
          throw new IllegalArgumentException("mmu: '" + text + "' is invalid; allowed 32 or 64");
    };
  }

  /** Checks a guest memory size against this kind's window. */
  public long checkPages(String field, long pages) {
    return Checks.inRange(field, pages, 1, maxGuestPages);
  }
}
