package org.mmumesh.hostmmu;

import java.util.Arrays;
import java.util.Objects;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.PackedArrays;
import org.mmumesh.checkpoint.v1.HostHtabState;
import org.mmumesh.common.Checks;

/**
 * The host's hashed page table holding one VM's shadow mappings (spec 5.3, 5.4). It is shared by
 * the VM's vCPUs; each vCPU's host VSIDs are distinct, so their VPNs never collide.
 *
 * <h2>Layout</h2>
 *
 * <p>{@code ptegCount} groups of 8 slots; slot {@code s} of group {@code g} has the global index
 * {@code g * 8 + s}. Each slot keeps the architected words ({@link #word0}, {@link #word1}), the
 * full host VPN (for checks), and an owner token (the {@link HostMmuCore} encodes vCPU and
 * shadow-cache entry; -1 for none). Both host kinds hash the VPN {@code (vsid << 16) | page} as
 * {@code hash = vsid ^ page} (64-bit: {@code hpt_hash} for 4 KiB pages in 256 MiB segments, masked
 * to 39 bits; 32-bit: {@code kvmppc_mmu_get_pteg}); the primary group is {@code hash & (n-1)}, the
 * secondary {@code ~hash & (n-1)}.
 *
 * <h2>64-bit host (spec 5.3, 3.3)</h2>
 *
 * <p>dword0 = {@code ((vpn >>> 11) << 7) | H(0x2) | V(0x1)} (AVPN of a 4 KiB page, B=0 for 256
 * MiB); dword1 = {@code (pfn << 12) | rflags}, rflags = {@code 0x192}, {@code | 0x3} when
 * read-only, {@code | 0x4} (N) when no-execute. Insertion is the kernel's loop: first free slot of
 * the primary group, else of the secondary group, else (attempt 2) {@code hpte_remove} evicts one
 * valid entry of the primary group and the insertion takes its slot. The kernel starts the victim
 * search at {@code mftb() & 7}; here a round-robin cursor (one per HTAB, advanced by every
 * eviction) stands in for the timebase, so runs are deterministic. Invalidation ({@code
 * hpte_invalidate}) clears the slot only if it still holds the recorded VPN.
 *
 * <h2>32-bit host (spec 5.4, 2.4)</h2>
 *
 * <p>word0 = {@code V(0x80000000) | (vsid << 7) | H(0x40) | ((ea & 0x0FFFFFFF) >>> 22)}; word1 =
 * {@code (pfn << 12) | M(0x10) | R(0x100) | C(0x80) | PP} with PP=2 (read-write) or PP=1 (read-only
 * for key 1). With quirk Q5 on (the kernel at the change) the insertion scans the
 * <em>secondary</em> group for a free slot and, if it is full, overwrites slot 0 of the primary
 * group. With Q5 off the insertion is the sane primary, secondary, then round-robin eviction in the
 * primary group. Invalidation zeroes word0 of the recorded slot whatever it now holds (Q5's
 * consequence when the slot was reused).
 *
 * <p>After an {@link #insert} that displaced a valid entry, {@link #lastEvictedOwner()} names the
 * victim's owner so the caller can drop (or, under Q5, deliberately keep) its cache record.
 *
 * <p>Not thread-safe.
 */
public final class HostHtab {
  /** Slots per PTEG. */
  public static final int HPTES_PER_GROUP = 8;

  /** The default size: 2^14 PTEGs (2 MiB of 64-bit HPTEs). */
  public static final int DEFAULT_PTEG_COUNT = 1 << 14;

  /** 64-bit host limits: 256 KiB minimum (2^11 PTEGs, spec 3.2) to 2^20 PTEGs in this model. */
  public static final int MIN_PTEGS_64 = 1 << 11;

  public static final int MAX_PTEGS_64 = 1 << 20;

  /** 32-bit host limits: 64 KiB to 32 MiB of HTAB (spec 2.2). */
  public static final int MIN_PTEGS_32 = 1 << 10;

  public static final int MAX_PTEGS_32 = 1 << 19;

  /** 64-bit HPTE bits (spec 3.3). */
  public static final long HPTE_V_VALID = 0x1L;

  public static final long HPTE_V_SECONDARY = 0x2L;

  /** rflags of a read-write host HPTE: R|C|M and PP=2 (spec 5.3). */
  public static final long RFLAGS_RW = 0x192L;

  /** OR-ed into rflags for a read-only HPTE: PP=3, read-only with key 0 (spec 5.3). */
  public static final long RFLAGS_RO_BITS = 0x3L;

  /** The no-execute bit N (spec 5.3). */
  public static final long HPTE_R_N = 0x4L;

  /** 32-bit PTE bits (spec 2.4, 5.4). */
  public static final long PTE_V = 0x80000000L;

  public static final long PTE_SEC = 0x40L;
  public static final long PTE_R = 0x100L;
  public static final long PTE_C = 0x80L;
  public static final long PTE_M = 0x10L;
  public static final long PP_RWRW = 2L;
  public static final long PP_RWRX = 1L;

  /** The largest pfn a host HPTE can hold (64-bit RPN 0x0FFFFFFFFFFFF000; 32-bit 20 bits). */
  public static final long MAX_PFN_64 = (1L << 48) - 1;

  public static final long MAX_PFN_32 = (1L << 20) - 1;

  private final HostKind kind;
  private final boolean q5;
  private final int ptegCount;
  private final long groupMask;
  private final long[] word0;
  private final long[] word1;
  private final long[] vpn;
  private final int[] owner;
  private final HostMmuStats stats = new HostMmuStats();

  private int evictCursor;
  private int validCount;

  /** Set while a {@link HostMmuAudit} is attached: slots written, owned or invalidated. */
  org.mmumesh.common.DirtySet dirty;

  private int lastEvictedOwner = -1;
  private int lastEvictedSlot = -1;
  private long lastEvictedVpn = -1;

  /**
   * An empty host HTAB.
   *
   * @param kind the host kind
   * @param ptegCount the number of PTEGs, a power of two: 2^11..2^20 on a 64-bit host, 2^10..2^19
   *     on a 32-bit host
   * @param q5 the 32-bit insertion quirk Q5 (spec 1.3); must be false on a 64-bit host
   */
  public HostHtab(HostKind kind, int ptegCount, boolean q5) {
    Objects.requireNonNull(kind, "kind");
    int min = kind.is64() ? MIN_PTEGS_64 : MIN_PTEGS_32;
    int max = kind.is64() ? MAX_PTEGS_64 : MAX_PTEGS_32;
    Checks.inRange("ptegCount", ptegCount, min, max);
    if (Integer.bitCount(ptegCount) != 1) {
      throw new IllegalArgumentException(
          "ptegCount: "
              + ptegCount
              + " is not a power of two; allowed 2^k in "
              + min
              + " to "
              + max);
    }
    if (q5 && kind.is64()) {
      throw new IllegalArgumentException(
          "q5: Q5 is a 32-bit host quirk; allowed only with kind BOOK3S_32");
    }
    this.kind = kind;
    this.q5 = q5;
    this.ptegCount = ptegCount;
    this.groupMask = ptegCount - 1L;
    int slots = ptegCount * HPTES_PER_GROUP;
    this.word0 = new long[slots];
    this.word1 = new long[slots];
    this.vpn = new long[slots];
    this.owner = new int[slots];
    Arrays.fill(owner, -1);
  }

  /** A 64-bit host HTAB of {@link #DEFAULT_PTEG_COUNT} PTEGs. */
  public static HostHtab defaultHost64() {
    return new HostHtab(HostKind.BOOK3S_64, DEFAULT_PTEG_COUNT, false);
  }

  // ---- hashing --------------------------------------------------------------------------------

  /** The hash of a host VPN: {@code vsid ^ page}, 39 bits (spec 3.2 / 5.4). */
  public static long hptHash(long hostVpn) {
    return ((hostVpn >>> 16) ^ (hostVpn & 0xFFFFL)) & 0x7FFFFFFFFFL;
  }

  /** The primary PTEG index of a host VPN. */
  public int primaryGroup(long hostVpn) {
    return (int) (hptHash(hostVpn) & groupMask);
  }

  /** The secondary PTEG index of a host VPN. */
  public int secondaryGroup(long hostVpn) {
    return (int) (~hptHash(hostVpn) & groupMask);
  }

  /** The architected first word of a valid entry for {@code hostVpn} in the given group kind. */
  public long expectedWord0(long hostVpn, boolean secondary) {
    if (kind.is64()) {
      return ((hostVpn >>> 11) << 7) | (secondary ? HPTE_V_SECONDARY : 0) | HPTE_V_VALID;
    }
    long vsid = (hostVpn >>> 16) & 0xFFFFFFL;
    long api = (hostVpn & 0xFFFFL) >>> 10;
    return PTE_V | (vsid << 7) | (secondary ? PTE_SEC : 0) | api;
  }

  /** The architected second word for a mapping of {@code pfn} with the given protection. */
  public long expectedWord1(long pfn, boolean readOnly, boolean noExec) {
    if (kind.is64()) {
      return (pfn << 12) | RFLAGS_RW | (readOnly ? RFLAGS_RO_BITS : 0) | (noExec ? HPTE_R_N : 0);
    }
    return (pfn << 12) | PTE_M | PTE_R | PTE_C | (readOnly ? PP_RWRX : PP_RWRW);
  }

  // ---- insertion ------------------------------------------------------------------------------

  /**
   * Inserts a host HPTE with the host kind's policy (see the class comment). If a valid entry is
   * displaced, {@link #lastEvictedOwner()}, {@link #lastEvictedSlot()} and {@link
   * #lastEvictedVpn()} describe it until the next insertion; otherwise the owner is -1.
   *
   * @param hostVpn the host VPN ({@code (hostVsid << 16) | page})
   * @param pfn the host frame (at most {@link #MAX_PFN_64} / {@link #MAX_PFN_32})
   * @param readOnly install read-only (rflags 0x193 / PP 1)
   * @param noExec set N (64-bit host only; a 32-bit PTE has no N bit and ignores it)
   * @return the global slot index written
   */
  public int insert(long hostVpn, long pfn, boolean readOnly, boolean noExec) {
    Checks.inRange("pfn", pfn, 0, kind.is64() ? MAX_PFN_64 : MAX_PFN_32);
    if (!kind.is64()) {
      Checks.unsignedAtMost("hostVpn", hostVpn, 0xFFFFFFFFFFL);
    } else {
      Checks.unsignedAtMost("hostVpn", hostVpn, (1L << 53) - 1);
    }
    lastEvictedOwner = -1;
    lastEvictedSlot = -1;
    lastEvictedVpn = -1;
    int primary = primaryGroup(hostVpn) * HPTES_PER_GROUP;
    int secondary = secondaryGroup(hostVpn) * HPTES_PER_GROUP;
    int slot;
    boolean sec;
    if (!kind.is64() && q5) {
      // Q5 (spec 1.3, 5.4): the secondary PTEG first; when full, slot 0 of the primary PTEG.
      slot = firstFree(secondary);
      sec = true;
      if (slot < 0) {
        slot = primary;
        sec = false;
      }
    } else {
      slot = firstFree(primary);
      sec = false;
      if (slot < 0) {
        slot = firstFree(secondary);
        sec = true;
      }
      if (slot < 0) {
        // attempt > 1: hpte_remove(primary group), round-robin start instead of mftb() & 7.
        slot = primary + (evictCursor++ & (HPTES_PER_GROUP - 1));
        sec = false;
      }
    }
    if ((word0[slot] & validBit()) != 0) {
      lastEvictedOwner = owner[slot];
      lastEvictedSlot = slot;
      lastEvictedVpn = vpn[slot];
      stats.inc(HostMmuStats.Counter.HTAB_EVICTIONS);
      validCount--;
    }
    word0[slot] = expectedWord0(hostVpn, sec);
    word1[slot] = expectedWord1(pfn, readOnly, noExec && kind.is64());
    vpn[slot] = hostVpn;
    owner[slot] = -1;
    validCount++;
    if (dirty != null) {
      dirty.add(slot);
    }
    return slot;
  }

  private long validBit() {
    return kind.is64() ? HPTE_V_VALID : PTE_V;
  }

  private int firstFree(int group) {
    long v = validBit();
    for (int i = 0; i < HPTES_PER_GROUP; i++) {
      if ((word0[group + i] & v) == 0) {
        return group + i;
      }
    }
    return -1;
  }

  /** Records which shadow-cache entry owns a slot (the {@link HostMmuCore}'s token, or -1). */
  public void setOwner(int slot, int ownerToken) {
    checkSlot(slot);
    owner[slot] = ownerToken;
    if (dirty != null) {
      dirty.add(slot);
    }
  }

  // ---- invalidation ---------------------------------------------------------------------------

  /**
   * {@code kvmppc_mmu_invalidate_pte}'s HTAB step. 64-bit: clears the slot only if it holds a valid
   * entry for {@code hostVpn} ({@code native_hpte_invalidate}'s AVPN compare). 32-bit: zeroes word0
   * of the slot whatever it holds (spec 5.4).
   *
   * @return true if a valid entry was removed
   */
  public boolean invalidate(int slot, long hostVpn) {
    checkSlot(slot);
    boolean valid = (word0[slot] & validBit()) != 0;
    if (kind.is64()) {
      if (!valid || vpn[slot] != hostVpn) {
        stats.inc(HostMmuStats.Counter.HTAB_INVALIDATE_MISSES);
        return false;
      }
    } else if (!valid) {
      stats.inc(HostMmuStats.Counter.HTAB_INVALIDATE_MISSES);
      word0[slot] = 0;
      return false;
    } else if (vpn[slot] != hostVpn) {
      stats.inc(HostMmuStats.Counter.HTAB_Q5_CLOBBERS);
    }
    word0[slot] = 0;
    owner[slot] = -1;
    validCount--;
    if (dirty != null) {
      dirty.add(slot);
    }
    stats.inc(HostMmuStats.Counter.HTAB_INVALIDATIONS);
    return true;
  }

  // ---- hardware lookup ------------------------------------------------------------------------

  /**
   * The hardware search: the primary group, then the secondary group, for a valid entry matching
   * {@code hostVpn}; the first match in slot order wins.
   *
   * @return the global slot index, or -1 when nothing matches (a NOHPTE fault)
   */
  public int lookupSlot(long hostVpn) {
    long want = expectedWord0(hostVpn, false);
    int g = primaryGroup(hostVpn) * HPTES_PER_GROUP;
    for (int i = 0; i < HPTES_PER_GROUP; i++) {
      if (word0[g + i] == want) {
        return g + i;
      }
    }
    want = expectedWord0(hostVpn, true);
    g = secondaryGroup(hostVpn) * HPTES_PER_GROUP;
    for (int i = 0; i < HPTES_PER_GROUP; i++) {
      if (word0[g + i] == want) {
        return g + i;
      }
    }
    return -1;
  }

  /** The hardware search returning the protection the access would see. Allocation-free. */
  public Lookup lookup(long hostVpn) {
    int s = lookupSlot(hostVpn);
    return s < 0 ? Lookup.MISS : protectionOf(s);
  }

  /** The protection of a valid slot (64-bit: key 0; 32-bit: key 1). */
  public Lookup protectionOf(int slot) {
    long w1 = word1[slot];
    if (kind.is64()) {
      boolean ro = (w1 & 0x3L) == 0x3L;
      return Lookup.of(!ro, (w1 & HPTE_R_N) == 0);
    }
    return Lookup.of((w1 & 0x3L) == PP_RWRW, true);
  }

  // ---- inspection -----------------------------------------------------------------------------

  /** The host frame a slot maps. */
  public long pfnAt(int slot) {
    checkSlot(slot);
    return kind.is64() ? (word1[slot] & 0x0FFFFFFFFFFFF000L) >>> 12 : (word1[slot] >>> 12);
  }

  /** True when the slot holds a valid entry. */
  public boolean isValid(int slot) {
    checkSlot(slot);
    return (word0[slot] & validBit()) != 0;
  }

  /** The first word (64-bit dword0 / 32-bit word0, as an unsigned value). */
  public long word0(int slot) {
    checkSlot(slot);
    return word0[slot];
  }

  /** The second word (64-bit dword1 / 32-bit word1). */
  public long word1(int slot) {
    checkSlot(slot);
    return word1[slot];
  }

  /** The full host VPN last written to the slot (meaningful while valid). */
  public long vpnAt(int slot) {
    checkSlot(slot);
    return vpn[slot];
  }

  /** The owner token of the slot, or -1. */
  public int ownerAt(int slot) {
    checkSlot(slot);
    return owner[slot];
  }

  /** The owner token of the entry the last {@link #insert} displaced, or -1 if none. */
  public int lastEvictedOwner() {
    return lastEvictedOwner;
  }

  /** The slot of the entry the last {@link #insert} displaced, or -1. */
  public int lastEvictedSlot() {
    return lastEvictedSlot;
  }

  /** The host VPN of the entry the last {@link #insert} displaced, or -1. */
  public long lastEvictedVpn() {
    return lastEvictedVpn;
  }

  /** The number of valid entries. */
  public int validCount() {
    return validCount;
  }

  /** The number of PTEGs. */
  public int ptegCount() {
    return ptegCount;
  }

  /** The number of slots ({@code ptegCount * 8}). */
  public int slotCount() {
    return word0.length;
  }

  /** The host kind. */
  public HostKind kind() {
    return kind;
  }

  /** True when quirk Q5 is on. */
  public boolean q5() {
    return q5;
  }

  /** Counters: evictions, invalidations, misses, Q5 clobbers. */
  public HostMmuStats stats() {
    return stats;
  }

  private void checkSlot(int slot) {
    if (slot < 0 || slot >= word0.length) {
      Checks.inRange("slot", slot, 0, word0.length - 1L);
    }
  }

  // ---------------------------------------------------------------- checkpoint

  /**
   * The HTAB's state (checkpoint; pure): the slots holding anything (a word, a VPN or an owner),
   * sparse, so an HTAB of 128 Ki slots with a few thousand HPTEs costs a few thousand entries.
   */
  HostHtabState checkpoint() {
    int n = 0;
    int[] used = new int[word0.length];
    for (int s = 0; s < word0.length; s++) {
      if (word0[s] != 0 || word1[s] != 0 || vpn[s] != 0 || owner[s] != -1) {
        used[n++] = s;
      }
    }
    long[] w0 = new long[n];
    long[] w1 = new long[n];
    long[] vp = new long[n];
    int[] ow = new int[n];
    HostHtabState.Builder b = HostHtabState.newBuilder();
    for (int i = 0; i < n; i++) {
      int s = used[i];
      b.addSlots(s);
      w0[i] = word0[s];
      w1[i] = word1[s];
      vp[i] = vpn[s];
      ow[i] = owner[s];
    }
    return b.setWord0S(PackedArrays.longs(w0, 0, n))
        .setWord1S(PackedArrays.longs(w1, 0, n))
        .setVpns(PackedArrays.longs(vp, 0, n))
        .setOwners(PackedArrays.ints(ow, 0, n))
        .setEvictCursor(evictCursor)
        .setValidCount(validCount)
        .setLastEvictedOwner(lastEvictedOwner)
        .setLastEvictedSlot(lastEvictedSlot)
        .setLastEvictedVpn(lastEvictedVpn)
        .setStats(stats.checkpoint())
        .build();
  }

  /** Sets this (fresh) HTAB from {@code s}; the valid count is checked against the words. */
  void restore(HostHtabState s) {
    int n = s.getSlotsCount();
    PackedArrays.count("htab.word0s", s.getWord0S(), Long.BYTES, n);
    PackedArrays.count("htab.word1s", s.getWord1S(), Long.BYTES, n);
    PackedArrays.count("htab.vpns", s.getVpns(), Long.BYTES, n);
    PackedArrays.count("htab.owners", s.getOwners(), Integer.BYTES, n);
    long[] w0 = new long[n];
    long[] w1 = new long[n];
    long[] vp = new long[n];
    int[] ow = new int[n];
    PackedArrays.readLongs(s.getWord0S(), w0, 0, n);
    PackedArrays.readLongs(s.getWord1S(), w1, 0, n);
    PackedArrays.readLongs(s.getVpns(), vp, 0, n);
    PackedArrays.readInts(s.getOwners(), ow, 0, n);
    int valid = 0;
    int last = -1;
    for (int i = 0; i < n; i++) {
      int slot =
          (int)
              CheckpointMismatchException.checkRange(
                  "htab.slots[" + i + "]", s.getSlots(i), last + 1L, word0.length - 1L);
      last = slot;
      word0[slot] = w0[i];
      word1[slot] = w1[i];
      vpn[slot] = vp[i];
      owner[slot] = ow[i];
      valid += (w0[i] & validBit()) != 0 ? 1 : 0;
    }
    if (valid != s.getValidCount()) {
      throw CheckpointMismatchException.of(
          "htab.valid_count", s.getValidCount(), valid + " (valid words)");
    }
    validCount = valid;
    evictCursor = s.getEvictCursor();
    CheckpointMismatchException.checkRange(
        "htab.last_evicted_slot", s.getLastEvictedSlot(), -1, word0.length - 1L);
    lastEvictedOwner = s.getLastEvictedOwner();
    lastEvictedSlot = s.getLastEvictedSlot();
    lastEvictedVpn = s.getLastEvictedVpn();
    stats.restore(s.getStats(), "htab.stats");
  }
}
