package org.mmumesh.hostmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

class ShadowPteCacheTest {
  /** Every HPTE removal the cache asked for, as (slot, vpn) pairs. */
  private final List<long[]> removed = new ArrayList<>();

  private ShadowPteCache cache;
  private int e1;
  private int e2;
  private int e3;

  private static GuestPte pte(long eaddr, long vpage, long raddr) {
    return new GuestPte(eaddr, vpage, raddr, true, true, true, PageSize.SIZE_4K);
  }

  private int map(ShadowPteCache c, GuestPte p, int slot) {
    int e = c.hpteCacheNext();
    c.hpteCacheMap(e, p, 0x100000L + slot, 0x500L + slot, slot, PageSize.SIZE_4K);
    return e;
  }

  /** Spec 8.5 cache contents E1-E3 (64-bit host). */
  @BeforeEach
  void fillE1toE3() {
    cache = new ShadowPteCache(HostKind.BOOK3S_64, (s, v) -> removed.add(new long[] {s, v}));
    e1 = map(cache, pte(0x10005000L, 0x12340005L, 0xAB000L), 1);
    e2 = map(cache, pte(0x10805000L, 0x12340805L, 0xAC000L), 2);
    e3 = map(cache, pte(0x20005000L, 0xABCDE0005L, 0xAD000L), 3);
  }

  @Test
  void hash64_isTheGoldenRatioMultiplyShift() {
    long key = 0x12340005L;
    assertThat(ShadowPteCache.hash64(key, 13))
        .isEqualTo((int) ((key * 0x9E37FFFFFFFC0001L) >>> 51));
    assertThat(ShadowPteCache.hash64(-1L, 5)).isBetween(0, 31);
  }

  @Test
  void tv41_pteFlushPage_invalidatesOnlyE1() {
    int n = cache.pteFlush(0x10005ABCL, ~0xFFFL);
    assertThat(n).isEqualTo(1);
    assertThat(cache.isLive(e1)).isFalse();
    assertThat(cache.isLive(e2)).isTrue();
    assertThat(cache.isLive(e3)).isTrue();
    assertThat(removed).hasSize(1);
    assertThat(removed.get(0)).containsExactly(1L, 0x100001L);
    assertThat(cache.stats().invalidations(InvalidationCause.FLUSH_PAGE)).isEqualTo(1);
    assertThat(cache.checkConsistency()).isEmpty();
  }

  @Test
  void tv43_pteVflush_removesOnlyMatchingVpage_whenMask36Bit() {
    int n = cache.pteVflush(0x12340005L, 0xFFFFFFFFFL);
    assertThat(n).isEqualTo(1);
    assertThat(cache.isLive(e1)).isFalse();
    assertThat(cache.count()).isEqualTo(2);
    assertThat(cache.stats().invalidations(InvalidationCause.VFLUSH_4K)).isEqualTo(1);
  }

  @Test
  void tv46_pteFlushAll_invalidatesE1E2E3_countZero() {
    int n = cache.pteFlush(0x12345678L, 0);
    assertThat(n).isEqualTo(3);
    assertThat(cache.count()).isZero();
    assertThat(removed).hasSize(3);
    assertThat(cache.stats().invalidations(InvalidationCause.FLUSH_ALL)).isEqualTo(3);
    assertThat(cache.checkConsistency()).isEmpty();
  }

  @Test
  void pteFlushLong_removesSamePageOffsetInEverySegment() {
    // 0x0FFFF000 compares (eaddr & 0x0FFFF000): E1 (0x10005000) and E3 (0x20005000), not E2.
    int n = cache.pteFlush(0x30005123L, 0x0FFFF000L);
    assertThat(n).isEqualTo(2);
    assertThat(cache.isLive(e2)).isTrue();
    assertThat(cache.count()).isEqualTo(1);
  }

  @Test
  void pteVflush64k_matchesSixteenPageGroup() {
    int n = cache.pteVflush(0x1234000FL, 0xFFFFFFFF0L);
    assertThat(n).isEqualTo(1); // E1 (vpage ...0005), not E2 (...0805)
    assertThat(cache.isLive(e1)).isFalse();
  }

  @Test
  void pteVflushLong_matches16MiBRange() {
    int n = cache.pteVflush(0x12340ABCL, 0xFFFFFF000L);
    assertThat(n).isEqualTo(2); // E1 and E2 share vpage & 0xFFFFFF000 = 0x12340000
    assertThat(cache.isLive(e3)).isTrue();
  }

  @Test
  void ptePflush_usesGuestRealRange_halfOpen() {
    int n = cache.ptePflush(0xAB000L, 0xAD000L);
    assertThat(n).isEqualTo(2);
    assertThat(cache.isLive(e3)).isTrue();
    assertThat(cache.ptePflush(0xAD001L, 0xFFFFFFL)).isZero();
  }

  @Test
  void unsupportedMasks_areCountedNoOps() {
    assertThat(cache.pteFlush(0x10005000L, 0xFFFFFFFFL)).isZero();
    assertThat(cache.pteVflush(0x12340005L, 0xFFFFFFFFL)).isZero();
    assertThat(cache.pteVflush(0x12340005L, 0L)).isZero();
    assertThat(cache.count()).isEqualTo(3);
    assertThat(removed).isEmpty();
    assertThat(cache.stats().get(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS)).isEqualTo(3);
  }

  @Test
  void pteVflush64k_isUnsupportedOn32BitHost() {
    ShadowPteCache c32 = new ShadowPteCache(HostKind.BOOK3S_32, (s, v) -> removed.add(null));
    map(c32, pte(0x00005000L, 0x1230005L, 0xAB000L), 4);
    assertThat(c32.pteVflush(0x1230005L, 0xFFFFFFFF0L)).isZero();
    assertThat(c32.count()).isEqualTo(1);
    assertThat(c32.stats().get(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS)).isEqualTo(1);
    assertThat(c32.pteVflush(0x1230005L, 0xFFFFFFFFFL)).isEqualTo(1);
  }

  @Test
  void invalidatePte_isIdempotent() {
    assertThat(cache.invalidatePte(e2)).isTrue();
    assertThat(cache.invalidatePte(e2)).isFalse();
    assertThat(cache.count()).isEqualTo(2);
    assertThat(removed).hasSize(1);
    assertThat(cache.stats().get(HostMmuStats.Counter.CACHE_INVALIDATIONS)).isEqualTo(1);
    // a flush that would match it finds nothing left
    assertThat(cache.pteVflush(0x12340805L, 0xFFFFFFFFFL)).isZero();
  }

  @Test
  void dropEvicted_unlinksWithoutTouchingTheHtab() {
    assertThat(cache.dropEvicted(e3)).isTrue();
    assertThat(cache.dropEvicted(e3)).isFalse();
    assertThat(removed).isEmpty();
    assertThat(cache.stats().invalidations(InvalidationCause.EVICTED)).isEqualTo(1);
  }

  @Test
  void hpteCacheNext_flushesEverythingFirst_whenCacheHolds32768() {
    ShadowPteCache c = new ShadowPteCache(HostKind.BOOK3S_64, (s, v) -> removed.add(null));
    for (int i = 0; i < ShadowPteCache.HPTEG_CACHE_NUM; i++) {
      map(c, pte(0x1000L * i, 0x5550000L + i, 0x1000L * i), i);
    }
    assertThat(c.count()).isEqualTo(32768);
    assertThat(c.isFull()).isTrue();
    assertThat(removed).isEmpty();
    int e = c.hpteCacheNext();
    assertThat(c.count()).isZero();
    assertThat(removed).hasSize(32768);
    assertThat(c.stats().get(HostMmuStats.Counter.CACHE_FULL_FLUSHES)).isEqualTo(1);
    assertThat(c.stats().invalidations(InvalidationCause.CACHE_FULL)).isEqualTo(32768);
    c.hpteCacheMap(e, pte(0x7000L, 0x7L, 0x7000L), 7, 7, 7, PageSize.SIZE_4K);
    assertThat(c.count()).isEqualTo(1);
    assertThat(c.checkConsistency()).isEmpty();
  }

  @Test
  void freedEntryNumbers_areReused() {
    cache.invalidatePte(e1);
    int e = cache.hpteCacheNext();
    assertThat(e).isEqualTo(e1);
  }

  @Test
  void hpteCacheMap_rejectsAnEntryNotReserved() {
    assertThatThrownBy(() -> cache.hpteCacheMap(e1, pte(0, 0, 0), 0, 0, 0, PageSize.SIZE_4K))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("entry");
    assertThatThrownBy(() -> cache.hpteCacheMap(999, pte(0, 0, 0), 0, 0, 0, PageSize.SIZE_4K))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("entry");
  }

  @Test
  void entry_snapshotsTheGuestPteAndHostFields() {
    HpteCacheEntry s = cache.entry(e2);
    assertThat(s.pte().eaddr()).isEqualTo(0x10805000L);
    assertThat(s.hostVpn()).isEqualTo(0x100002L);
    assertThat(s.slot()).isEqualTo(2);
    assertThat(s.pfn()).isEqualTo(0x502L);
    assertThat(s.hostPageSize()).isEqualTo(PageSize.SIZE_4K);
    assertThat(cache.entries()).hasSize(3);
  }
}
