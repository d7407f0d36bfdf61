package org.mmumesh.hostmmu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.PackedArrays;
import org.mmumesh.checkpoint.v1.ShadowPteCacheState;
import org.mmumesh.common.Checks;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

/**
 * The per-vCPU shadow-PTE cache, {@code book3s_mmu_hpte.c} (spec 5.6): a record of every host HPTE
 * this vCPU created, indexed five ways so that each kind of guest invalidation finds its victims
 * without a full scan.
 *
 * <h2>Data structures</h2>
 *
 * <p>Entries live in parallel primitive arrays indexed by an entry number (0 to 2^15-1) that grow
 * by doubling up to {@link #HPTEG_CACHE_NUM}; freed numbers go on a free list, so a steady state
 * allocates nothing. Each entry sits on up to five intrusive doubly linked lists (next/prev int
 * arrays), one per index:
 *
 * <table>
 *   <caption>indexes (spec 5.6)</caption>
 *   <tr><th>list</th><th>key</th><th>buckets</th></tr>
 *   <tr><td>pte</td><td>{@code eaddr >>> 12}</td><td>2^13</td></tr>
 *   <tr><td>pte_long</td><td>{@code (eaddr & 0x0FFFF000) >>> 12}</td><td>2^12</td></tr>
 *   <tr><td>vpte</td><td>{@code vpage & 0xFFFFFFFFF}</td><td>2^13</td></tr>
 *   <tr><td>vpte_long</td><td>{@code (vpage & 0xFFFFFF000) >>> 12}</td><td>2^5</td></tr>
 *   <tr><td>vpte_64k (64-bit host only)</td><td>{@code (vpage & 0xFFFFFFFF0) >>> 4}</td>
 *       <td>2^11</td></tr>
 * </table>
 *
 * <p>The bucket of a key is {@code hash_64(key, bits) = (key * 0x9E37FFFFFFFC0001) >>> (64-bits)}.
 * New entries go to the head of each bucket, as {@code hlist_add_head_rcu} does.
 *
 * <h2>Invalidation</h2>
 *
 * <p>{@code invalidate_pte} first removes the host HPTE through the {@link HpteRemover} (the
 * kernel's {@code kvmppc_mmu_invalidate_pte}), then unlinks the entry from every list and
 * decrements the count. Invalidating an entry that is no longer linked is a no-op (the kernel's
 * {@code hlist_unhashed} check); unlike the kernel, the no-op also skips the HTAB step, because an
 * entry number may already have been reused. An entry whose host HPTE was evicted can be dropped
 * without touching the HTAB ({@link #dropEvicted(int)}).
 *
 * <p>Flush masks the kernel does not support are a warning and a no-op there; here they bump the
 * {@link HostMmuStats.Counter#UNSUPPORTED_MASK_NOOPS} counter and change nothing.
 *
 * <p>Not thread-safe: the kernel's per-vCPU spinlock becomes "one owner at a time".
 */
public final class ShadowPteCache {
  /** {@code HPTEG_CACHE_NUM}: the maximum number of entries per vCPU (spec 5.6). */
  public static final int HPTEG_CACHE_NUM = 1 << 15;

  /** Bucket bits of the five lists (spec 5.6). */
  public static final int HPTEG_HASH_BITS_PTE = 13;

  public static final int HPTEG_HASH_BITS_PTE_LONG = 12;
  public static final int HPTEG_HASH_BITS_VPTE = 13;
  public static final int HPTEG_HASH_BITS_VPTE_LONG = 5;
  public static final int HPTEG_HASH_BITS_VPTE_64K = 11;

  /** The {@code hash_64} multiplier ({@code GOLDEN_RATIO_PRIME_64}, include/linux/hash.h). */
  public static final long GOLDEN_RATIO_PRIME_64 = 0x9E37FFFFFFFC0001L;

  /** pte_flush masks (spec 5.6). */
  public static final long MASK_FLUSH_PAGE = ~0xFFFL;

  public static final long MASK_FLUSH_LONG = 0x0FFFF000L;
  public static final long MASK_FLUSH_ALL = 0L;

  /** pte_vflush masks (spec 5.6). */
  public static final long VP_MASK_4K = 0xFFFFFFFFFL;

  public static final long VP_MASK_64K = 0xFFFFFFFF0L;
  public static final long VP_MASK_LONG = 0xFFFFFF000L;

  private static final int L_PTE = 0;
  private static final int L_PTE_LONG = 1;
  private static final int L_VPTE = 2;
  private static final int L_VPTE_LONG = 3;
  private static final int L_VPTE_64K = 4;
  private static final int[] BITS = {
    HPTEG_HASH_BITS_PTE,
    HPTEG_HASH_BITS_PTE_LONG,
    HPTEG_HASH_BITS_VPTE,
    HPTEG_HASH_BITS_VPTE_LONG,
    HPTEG_HASH_BITS_VPTE_64K
  };
  private static final String[] LIST_NAMES = {"pte", "pte_long", "vpte", "vpte_long", "vpte_64k"};

  private static final byte FREE = 0;
  private static final byte ALLOCATED = 1;
  private static final byte LINKED = 2;

  private static final int INITIAL_CAPACITY = 256;
  private static final PageSize[] PAGE_SIZES = PageSize.values();

  private final HostKind kind;
  private final HpteRemover remover;
  private final HostMmuStats stats = new HostMmuStats();
  private final int lists;
  private final int[][] heads;
  private final int[][] next;
  private final int[][] prev;

  private long[] eaddr;
  private long[] vpage;
  private long[] raddr;
  private long[] hostVpn;
  private long[] pfn;
  private int[] slot;
  private byte[] hostPageSize;
  private byte[] state;
  private GuestPte[] pte;
  private int[] freeNext;

  private int capacity;
  private int highWater;
  private int freeHead = -1;
  private int count;

  /** Set while a {@link HostMmuAudit} is attached: entries mapped or released. */
  org.mmumesh.common.DirtySet dirty;

  /**
   * An empty cache.
   *
   * @param kind the host kind; the 64 KiB index exists only on a 64-bit host
   * @param remover removes the host HPTE of an invalidated entry (normally the {@link HostHtab})
   */
  public ShadowPteCache(HostKind kind, HpteRemover remover) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.remover = Objects.requireNonNull(remover, "remover");
    this.lists = kind.is64() ? 5 : 4;
    this.heads = new int[lists][];
    this.next = new int[lists][];
    this.prev = new int[lists][];
    for (int l = 0; l < lists; l++) {
      heads[l] = new int[1 << BITS[l]];
      Arrays.fill(heads[l], -1);
    }
    allocate(INITIAL_CAPACITY);
  }

  /** {@code hash_64(key, bits)}: the bucket of {@code key} in a table of 2^bits buckets. */
  public static int hash64(long key, int bits) {
    return (int) ((key * GOLDEN_RATIO_PRIME_64) >>> (64 - bits));
  }

  // ---- allocation -----------------------------------------------------------------------------

  private void allocate(int newCapacity) {
    eaddr = grow(eaddr, newCapacity);
    vpage = grow(vpage, newCapacity);
    raddr = grow(raddr, newCapacity);
    hostVpn = grow(hostVpn, newCapacity);
    pfn = grow(pfn, newCapacity);
    slot = grow(slot, newCapacity);
    hostPageSize = grow(hostPageSize, newCapacity);
    state = grow(state, newCapacity);
    pte = pte == null ? new GuestPte[newCapacity] : Arrays.copyOf(pte, newCapacity);
    freeNext = grow(freeNext, newCapacity);
    for (int l = 0; l < lists; l++) {
      next[l] = grow(next[l], newCapacity);
      prev[l] = grow(prev[l], newCapacity);
    }
    capacity = newCapacity;
  }

  private static long[] grow(long[] a, int n) {
    return a == null ? new long[n] : Arrays.copyOf(a, n);
  }

  private static int[] grow(int[] a, int n) {
    return a == null ? new int[n] : Arrays.copyOf(a, n);
  }

  private static byte[] grow(byte[] a, int n) {
    return a == null ? new byte[n] : Arrays.copyOf(a, n);
  }

  /** True when the cache holds {@link #HPTEG_CACHE_NUM} entries. */
  public boolean isFull() {
    return count == HPTEG_CACHE_NUM;
  }

  /**
   * {@code kvmppc_mmu_hpte_cache_next}: reserves an entry number. If the cache is full, every entry
   * is invalidated first (cause {@link InvalidationCause#CACHE_FULL}). The entry is not counted
   * until {@link #hpteCacheMap} links it.
   *
   * @return the reserved entry number
   * @throws IllegalStateException if every entry number is reserved but not mapped
   */
  public int hpteCacheNext() {
    if (count == HPTEG_CACHE_NUM) {
      stats.inc(HostMmuStats.Counter.CACHE_FULL_FLUSHES);
      stats.inc(HostMmuStats.Counter.FLUSH_ALL_CALLS);
      flushAll(InvalidationCause.CACHE_FULL);
    }
    int e;
    if (freeHead >= 0) {
      e = freeHead;
      freeHead = freeNext[e];
    } else {
      if (highWater == HPTEG_CACHE_NUM) {
        throw new IllegalStateException(
            "shadow cache: all " + HPTEG_CACHE_NUM + " entries reserved but not mapped");
      }
      if (highWater == capacity) {
        allocate(Math.min(capacity * 2, HPTEG_CACHE_NUM));
      }
      e = highWater++;
    }
    state[e] = ALLOCATED;
    return e;
  }

  /**
   * {@code kvmppc_mmu_hpte_cache_map}: fills a reserved entry and links it into every index.
   *
   * @param entry a number returned by {@link #hpteCacheNext()} and not mapped yet
   * @param gpte the guest translation (kept as the entry's copy; {@link GuestPte} is immutable)
   * @param hostVpnValue the host VPN of the HPTE
   * @param pfnValue the host frame mapped
   * @param slotValue the global host HTAB slot of the HPTE
   * @param pageSize the host page size of the HPTE
   */
  public void hpteCacheMap(
      int entry,
      GuestPte gpte,
      long hostVpnValue,
      long pfnValue,
      int slotValue,
      PageSize pageSize) {
    Checks.inRange("entry", entry, 0, highWater - 1);
    if (state[entry] != ALLOCATED) {
      throw new IllegalArgumentException(
          "entry: " + entry + " is not reserved by hpteCacheNext (or already mapped)");
    }
    Objects.requireNonNull(gpte, "gpte");
    Objects.requireNonNull(pageSize, "pageSize");
    pte[entry] = gpte;
    eaddr[entry] = gpte.eaddr();
    vpage[entry] = gpte.vpage();
    raddr[entry] = gpte.raddr();
    hostVpn[entry] = hostVpnValue;
    pfn[entry] = pfnValue;
    slot[entry] = slotValue;
    hostPageSize[entry] = (byte) pageSize.ordinal();
    for (int l = 0; l < lists; l++) {
      link(l, bucketOf(l, entry), entry);
    }
    state[entry] = LINKED;
    count++;
    if (dirty != null) {
      dirty.add(entry);
    }
  }

  private int bucketOf(int list, int e) {
    return hash64(keyOf(list, eaddr[e], vpage[e]), BITS[list]);
  }

  private static long keyOf(int list, long ea, long vp) {
    return switch (list) {
      case L_PTE -> ea >>> 12;
      case L_PTE_LONG -> (ea & 0x0FFFF000L) >>> 12;
      case L_VPTE -> vp & VP_MASK_4K;
      case L_VPTE_LONG -> (vp & VP_MASK_LONG) >>> 12;
      case L_VPTE_64K -> (vp & VP_MASK_64K) >>> 4;
      default -> throw new IllegalStateException("list " + list);
    };
  }

  private void link(int l, int bucket, int e) {
    int h = heads[l][bucket];
    next[l][e] = h;
    prev[l][e] = -1 - bucket; // negative: the entry is first in this bucket
    if (h >= 0) {
      prev[l][h] = e;
    }
    heads[l][bucket] = e;
  }

  private void unlink(int l, int e) {
    int p = prev[l][e];
    int n = next[l][e];
    if (p >= 0) {
      next[l][p] = n;
    } else {
      heads[l][-1 - p] = n;
    }
    if (n >= 0) {
      prev[l][n] = p;
    }
  }

  // ---- invalidation ---------------------------------------------------------------------------

  /**
   * {@code invalidate_pte} for a direct caller: removes the host HPTE, then the entry.
   *
   * @return true if the entry was live; false (and nothing changes) if it was already gone
   */
  public boolean invalidatePte(int entry) {
    if (entry < 0 || entry >= highWater || state[entry] != LINKED) {
      return false;
    }
    invalidate(entry, InvalidationCause.DIRECT);
    return true;
  }

  private void invalidate(int e, InvalidationCause cause) {
    // (1) remove the host HPTE (kvmppc_mmu_invalidate_pte), (2) unlink, count--, (3) free.
    remover.removeHpte(slot[e], hostVpn[e]);
    release(e, cause);
  }

  /**
   * Drops an entry whose host HPTE another insertion already evicted: unlinks it without touching
   * the HTAB (cause {@link InvalidationCause#EVICTED}).
   *
   * @return true if the entry was live
   */
  public boolean dropEvicted(int entry) {
    if (entry < 0 || entry >= highWater || state[entry] != LINKED) {
      return false;
    }
    release(entry, InvalidationCause.EVICTED);
    return true;
  }

  private void release(int e, InvalidationCause cause) {
    for (int l = 0; l < lists; l++) {
      unlink(l, e);
    }
    state[e] = FREE;
    pte[e] = null;
    if (dirty != null) {
      dirty.add(e);
    }
    freeNext[e] = freeHead;
    freeHead = e;
    count--;
    stats.invalidated(cause);
  }

  /**
   * {@code kvmppc_mmu_pte_flush(vcpu, ea, mask)}: {@code ea &= mask}, then mask {@code ~0xFFF}
   * flushes the one effective page, {@code 0x0FFFF000} that page offset in every segment (32-bit
   * tlbie), {@code 0} everything. On a 32-bit host {@code 0xFFFFF000} (the 32-bit {@code ~0xFFF})
   * is accepted as well. Any other mask is a counted no-op.
   *
   * @return the number of entries invalidated
   */
  public int pteFlush(long ea, long mask) {
    long key = ea & mask;
    if (mask == MASK_FLUSH_PAGE || (!kind.is64() && mask == 0xFFFFF000L)) {
      stats.inc(HostMmuStats.Counter.FLUSH_PAGE_CALLS);
      return invalidateMatching(
          L_PTE, hash64(key >>> 12, BITS[L_PTE]), eaddr, mask, key, InvalidationCause.FLUSH_PAGE);
    } else if (mask == MASK_FLUSH_LONG) {
      stats.inc(HostMmuStats.Counter.FLUSH_LONG_CALLS);
      return invalidateMatching(
          L_PTE_LONG,
          hash64(key >>> 12, BITS[L_PTE_LONG]),
          eaddr,
          MASK_FLUSH_LONG,
          key,
          InvalidationCause.FLUSH_LONG);
    } else if (mask == MASK_FLUSH_ALL) {
      stats.inc(HostMmuStats.Counter.FLUSH_ALL_CALLS);
      return flushAll(InvalidationCause.FLUSH_ALL);
    }
    stats.inc(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS);
    return 0;
  }

  /**
   * {@code kvmppc_mmu_pte_flush_all}, with the cause recorded: walks every vpte_long bucket.
   *
   * @return the number of entries invalidated
   */
  int flushAll(InvalidationCause cause) {
    int before = count;
    int[] h = heads[L_VPTE_LONG];
    int[] nx = next[L_VPTE_LONG];
    for (int b = 0; b < h.length; b++) {
      for (int e = h[b]; e >= 0; ) {
        int n = nx[e];
        invalidate(e, cause);
        e = n;
      }
    }
    return before - count;
  }

  /**
   * {@code kvmppc_mmu_pte_vflush(vcpu, vp, mask)}: {@code vp &= mask}, then invalidates the entries
   * with {@code (vpage & mask) == vp}. Masks: {@code 0xFFFFFFFFF} (4 KiB), {@code 0xFFFFFFFF0} (64
   * KiB, 64-bit host only), {@code 0xFFFFFF000} (16 MiB). Any other mask is a counted no-op.
   *
   * @return the number of entries invalidated
   */
  public int pteVflush(long vp, long mask) {
    int list;
    InvalidationCause cause;
    if (mask == VP_MASK_4K) {
      list = L_VPTE;
      cause = InvalidationCause.VFLUSH_4K;
      stats.inc(HostMmuStats.Counter.VFLUSH_4K_CALLS);
    } else if (mask == VP_MASK_64K && kind.is64()) {
      list = L_VPTE_64K;
      cause = InvalidationCause.VFLUSH_64K;
      stats.inc(HostMmuStats.Counter.VFLUSH_64K_CALLS);
    } else if (mask == VP_MASK_LONG) {
      list = L_VPTE_LONG;
      cause = InvalidationCause.VFLUSH_LONG;
      stats.inc(HostMmuStats.Counter.VFLUSH_LONG_CALLS);
    } else {
      stats.inc(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS);
      return 0;
    }
    long key = vp & mask;
    return invalidateMatching(
        list, hash64(keyOf(list, 0, key), BITS[list]), vpage, mask, key, cause);
  }

  /**
   * Walks bucket {@code b} of list {@code list} and invalidates the entries whose {@code field &
   * mask} equals {@code key}.
   *
   * @return the number of entries invalidated
   */
  private int invalidateMatching(
      int list, int b, long[] field, long mask, long key, InvalidationCause cause) {
    int before = count;
    for (int e = heads[list][b]; e >= 0; ) {
      int n = next[list][e];
      if ((field[e] & mask) == key) {
        invalidate(e, cause);
      }
      e = n;
    }
    return before - count;
  }

  /**
   * {@code kvmppc_mmu_pte_pflush(vcpu, paStart, paEnd)}: invalidates the entries whose guest real
   * address satisfies {@code paStart <= raddr < paEnd} (unsigned compare), walking every vpte_long
   * bucket.
   *
   * @return the number of entries invalidated
   */
  public int ptePflush(long paStart, long paEnd) {
    stats.inc(HostMmuStats.Counter.PFLUSH_CALLS);
    int before = count;
    int[] h = heads[L_VPTE_LONG];
    int[] nx = next[L_VPTE_LONG];
    for (int b = 0; b < h.length; b++) {
      for (int e = h[b]; e >= 0; ) {
        int n = nx[e];
        long ra = raddr[e];
        if (Long.compareUnsigned(ra, paStart) >= 0 && Long.compareUnsigned(ra, paEnd) < 0) {
          invalidate(e, InvalidationCause.PFLUSH);
        }
        e = n;
      }
    }
    return before - count;
  }

  // ---- inspection -----------------------------------------------------------------------------

  /** {@code hpte_cache_count}: the number of live entries. */
  public int count() {
    return count;
  }

  /** The host kind this cache was built for. */
  public HostKind kind() {
    return kind;
  }

  /** This cache's own counters (flush calls, invalidations by cause, cache-full flushes). */
  public HostMmuStats stats() {
    return stats;
  }

  /** True when {@code entry} is a live (linked) entry. */
  public boolean isLive(int entry) {
    return entry >= 0 && entry < highWater && state[entry] == LINKED;
  }

  /** The host VPN of a live entry. */
  public long hostVpnOf(int entry) {
    return hostVpn[entry];
  }

  /** The host HTAB slot of a live entry. */
  public int slotOf(int entry) {
    return slot[entry];
  }

  /** The host pfn of a live entry. */
  public long pfnOf(int entry) {
    return pfn[entry];
  }

  /** The guest real address of a live entry. */
  public long raddrOf(int entry) {
    return raddr[entry];
  }

  /** The guest vpage of a live entry. */
  public long vpageOf(int entry) {
    return vpage[entry];
  }

  /** A snapshot of a live entry, or null if {@code entry} is not live. */
  public HpteCacheEntry entry(int entry) {
    if (!isLive(entry)) {
      return null;
    }
    return new HpteCacheEntry(
        entry,
        pte[entry],
        hostVpn[entry],
        pfn[entry],
        slot[entry],
        PAGE_SIZES[hostPageSize[entry]]);
  }

  /** Snapshots of every live entry, in entry-number order. */
  public List<HpteCacheEntry> entries() {
    List<HpteCacheEntry> out = new ArrayList<>(count);
    for (int e = 0; e < highWater; e++) {
      if (state[e] == LINKED) {
        out.add(entry(e));
      }
    }
    return out;
  }

  /**
   * {@link #checkConsistency()} around one live entry (the incremental check), in O(1): on every
   * list, the entry's neighbours link back to it, its predecessor (or the bucket head) is in the
   * bucket its key hashes to, and both neighbours are live. An entry that is not live is not
   * checked (the full check finds a released entry left on a list).
   *
   * @return human-readable violations; null when consistent or not live
   */
  List<String> checkEntryLinks(int e) {
    List<String> v = null;
    if (e >= highWater || state[e] != LINKED) {
      return v;
    }
    for (int l = 0; l < lists; l++) {
      int b = bucketOf(l, e);
      int p = prev[l][e];
      int n = next[l][e];
      boolean ok =
          p >= 0
              ? p < highWater && state[p] == LINKED && next[l][p] == e && bucketOf(l, p) == b
              : -1 - p == b && heads[l][b] == e;
      if (ok && n >= 0) {
        ok = n < highWater && state[n] == LINKED && prev[l][n] == e && bucketOf(l, n) == b;
      }
      if (!ok) {
        if (v == null) {
          v = new ArrayList<>();
        }
        v.add(LIST_NAMES[l] + ": entry " + e + " is badly linked in bucket " + b);
      }
    }
    return v;
  }

  /**
   * The next live entry other than {@code e} with {@code e}'s vpage on {@code e}'s vpte bucket,
   * after entry {@code after} (-1: from the start), or -1 (for the incremental check).
   */
  int nextWithVpage(int e, int after) {
    long vp = vpage[e];
    int x = after < 0 ? heads[L_VPTE][bucketOf(L_VPTE, e)] : next[L_VPTE][after];
    for (; x >= 0; x = next[L_VPTE][x]) {
      if (x != e && vpage[x] == vp) {
        return x;
      }
    }
    return -1;
  }

  /**
   * Checks the cache's own structure: every list holds exactly the live entries, each in the bucket
   * its key hashes to, with consistent back links, and {@link #count()} equals the number of live
   * entries.
   *
   * @return human-readable violations; empty when consistent
   */
  public List<String> checkConsistency() {
    List<String> v = new ArrayList<>();
    int live = 0;
    for (int e = 0; e < highWater; e++) {
      if (state[e] == LINKED) {
        live++;
      }
    }
    if (live != count) {
      v.add("count " + count + " != live entries " + live);
    }
    for (int l = 0; l < lists; l++) {
      int seen = 0;
      for (int b = 0; b < heads[l].length; b++) {
        int expectPrev = -1 - b;
        for (int e = heads[l][b]; e >= 0; e = next[l][e]) {
          if (++seen > count + 1) {
            v.add(LIST_NAMES[l] + ": cycle or overflow in bucket " + b);
            break;
          }
          if (state[e] != LINKED) {
            v.add(LIST_NAMES[l] + ": entry " + e + " on a list but not live");
          }
          if (bucketOf(l, e) != b) {
            v.add(
                LIST_NAMES[l]
                    + ": entry "
                    + e
                    + " in bucket "
                    + b
                    + ", key says "
                    + bucketOf(l, e));
          }
          if (prev[l][e] != expectPrev) {
            v.add(LIST_NAMES[l] + ": entry " + e + " has a bad back link");
          }
          expectPrev = e;
        }
      }
      if (seen != live) {
        v.add(LIST_NAMES[l] + ": holds " + seen + " entries, live " + live);
      }
    }
    return v;
  }

  // ---------------------------------------------------------------- checkpoint

  /**
   * The cache's state (checkpoint; pure): every entry below the high-water mark with its hash-list
   * links as they are. The bucket heads are not written: a bucket's first entry is the one whose
   * back link is {@code -1 - bucket}.
   */
  ShadowPteCacheState checkpoint() {
    int n = highWater;
    byte[] flags = new byte[n];
    byte[] sizes = new byte[n];
    for (int e = 0; e < n; e++) {
      GuestPte p = pte[e];
      if (p != null) {
        flags[e] =
            (byte) (1 | (p.mayRead() ? 2 : 0) | (p.mayWrite() ? 4 : 0) | (p.mayExecute() ? 8 : 0));
        sizes[e] = (byte) (p.pageSize() == null ? 0 : p.pageSize().ordinal() + 1);
      }
    }
    ShadowPteCacheState.Builder b =
        ShadowPteCacheState.newBuilder()
            .setHighWater(n)
            .setFreeHead(freeHead)
            .setCount(count)
            .setEaddrs(PackedArrays.longs(eaddr, 0, n))
            .setVpages(PackedArrays.longs(vpage, 0, n))
            .setRaddrs(PackedArrays.longs(raddr, 0, n))
            .setHostVpns(PackedArrays.longs(hostVpn, 0, n))
            .setPfns(PackedArrays.longs(pfn, 0, n))
            .setSlots(PackedArrays.ints(slot, 0, n))
            .setHostPageSizes(PackedArrays.bytes(hostPageSize, 0, n))
            .setStates(PackedArrays.bytes(state, 0, n))
            .setFreeNexts(PackedArrays.ints(freeNext, 0, n))
            .setPteFlags(PackedArrays.bytes(flags, 0, n))
            .setPtePageSizes(PackedArrays.bytes(sizes, 0, n))
            .setStats(stats.checkpoint());
    for (int l = 0; l < lists; l++) {
      b.addListNexts(PackedArrays.ints(next[l], 0, n))
          .addListPrevs(PackedArrays.ints(prev[l], 0, n));
    }
    return b.build();
  }

  /**
   * Sets this (fresh) cache from {@code s}, then checks it ({@link #checkConsistency()}: lists,
   * buckets, count) and its free list.
   *
   * @throws CheckpointMismatchException naming {@code f} and what is wrong
   */
  void restore(ShadowPteCacheState s, String f) {
    int n =
        (int)
            CheckpointMismatchException.checkRange(
                f + ".high_water", s.getHighWater(), 0, HPTEG_CACHE_NUM);
    for (var e :
        java.util.Map.of(
                "eaddrs",
                s.getEaddrs(),
                "vpages",
                s.getVpages(),
                "raddrs",
                s.getRaddrs(),
                "host_vpns",
                s.getHostVpns(),
                "pfns",
                s.getPfns())
            .entrySet()) {
      PackedArrays.count(f + "." + e.getKey(), e.getValue(), Long.BYTES, n);
    }
    PackedArrays.count(f + ".slots", s.getSlots(), Integer.BYTES, n);
    PackedArrays.count(f + ".free_nexts", s.getFreeNexts(), Integer.BYTES, n);
    PackedArrays.count(f + ".host_page_sizes", s.getHostPageSizes(), 1, n);
    PackedArrays.count(f + ".states", s.getStates(), 1, n);
    PackedArrays.count(f + ".pte_flags", s.getPteFlags(), 1, n);
    PackedArrays.count(f + ".pte_page_sizes", s.getPtePageSizes(), 1, n);
    if (s.getListNextsCount() != lists || s.getListPrevsCount() != lists) {
      throw CheckpointMismatchException.of(
          f + ".list_nexts/list_prevs count",
          s.getListNextsCount() + "/" + s.getListPrevsCount(),
          lists + " (hash lists of a " + kind + " host)");
    }
    for (int l = 0; l < lists; l++) {
      PackedArrays.count(f + ".list_nexts[" + l + "]", s.getListNexts(l), Integer.BYTES, n);
      PackedArrays.count(f + ".list_prevs[" + l + "]", s.getListPrevs(l), Integer.BYTES, n);
    }
    int cap = INITIAL_CAPACITY;
    while (cap < n) {
      cap *= 2;
    }
    allocate(Math.min(cap, HPTEG_CACHE_NUM));
    PackedArrays.readLongs(s.getEaddrs(), eaddr, 0, n);
    PackedArrays.readLongs(s.getVpages(), vpage, 0, n);
    PackedArrays.readLongs(s.getRaddrs(), raddr, 0, n);
    PackedArrays.readLongs(s.getHostVpns(), hostVpn, 0, n);
    PackedArrays.readLongs(s.getPfns(), pfn, 0, n);
    PackedArrays.readInts(s.getSlots(), slot, 0, n);
    PackedArrays.readInts(s.getFreeNexts(), freeNext, 0, n);
    PackedArrays.readBytes(s.getHostPageSizes(), hostPageSize, 0, n);
    PackedArrays.readBytes(s.getStates(), state, 0, n);
    byte[] flags = s.getPteFlags().toByteArray();
    byte[] sizes = s.getPtePageSizes().toByteArray();
    int free = 0;
    for (int e = 0; e < n; e++) {
      if (state[e] < FREE || state[e] > LINKED) {
        throw new CheckpointMismatchException(
            f + ".states[" + e + "]: " + state[e] + "; allowed 0 (free), 1 (reserved), 2 (linked)");
      }
      CheckpointMismatchException.checkRange(
          f + ".host_page_sizes[" + e + "]", hostPageSize[e], 0, PAGE_SIZES.length - 1L);
      CheckpointMismatchException.checkRange(
          f + ".pte_page_sizes[" + e + "]", sizes[e], 0, PAGE_SIZES.length);
      CheckpointMismatchException.checkRange(f + ".pte_flags[" + e + "]", flags[e], 0, 15);
      boolean linked = state[e] == LINKED;
      if (((flags[e] & 1) != 0) != linked) {
        throw new CheckpointMismatchException(
            f + ".pte_flags[" + e + "]: a guest PTE is present exactly for linked entries");
      }
      pte[e] =
          linked
              ? new GuestPte(
                  eaddr[e],
                  vpage[e],
                  raddr[e],
                  (flags[e] & 2) != 0,
                  (flags[e] & 4) != 0,
                  (flags[e] & 8) != 0,
                  sizes[e] == 0 ? null : PAGE_SIZES[sizes[e] - 1])
              : null;
      free += state[e] == FREE ? 1 : 0;
    }
    for (int l = 0; l < lists; l++) {
      PackedArrays.readInts(s.getListNexts(l), next[l], 0, n);
      PackedArrays.readInts(s.getListPrevs(l), prev[l], 0, n);
      for (int e = 0; e < n; e++) {
        if (state[e] == LINKED && prev[l][e] < 0) {
          int bucket = -1 - prev[l][e];
          CheckpointMismatchException.checkRange(
              f + ".list_prevs[" + l + "][" + e + "] bucket", bucket, 0, heads[l].length - 1L);
          heads[l][bucket] = e;
        }
      }
    }
    highWater = n;
    count = s.getCount();
    CheckpointMismatchException.checkRange(f + ".free_head", s.getFreeHead(), -1, n - 1L);
    freeHead = s.getFreeHead();
    int visited = 0;
    for (int e = freeHead; e >= 0; e = freeNext[e]) {
      if (e >= n || state[e] != FREE || ++visited > free) {
        throw new CheckpointMismatchException(
            f
                + ".free_nexts: the free list reaches entry "
                + e
                + ", not a free entry below "
                + n
                + " (or loops)");
      }
    }
    if (visited != free) {
      throw new CheckpointMismatchException(
          f + ".free_head: the free list holds " + visited + " of the " + free + " free entries");
    }
    List<String> bad = checkConsistency();
    if (!bad.isEmpty()) {
      throw new CheckpointMismatchException(f + ": inconsistent hash lists: " + bad);
    }
    stats.restore(s.getStats(), f + ".stats");
  }
}
