package org.mmumesh.hostmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostHtabTest {
  private static final int N64 = HostHtab.MIN_PTEGS_64;
  private static final int N32 = HostHtab.MIN_PTEGS_32;

  /** The k-th VPN whose primary group is {@code group}: same page 0, VSID group + k*n. */
  private static long vpnInGroup(int group, int k, int n) {
    return ((long) group + (long) k * n) << 16;
  }

  @Test
  void rflags64_rwIs0x192_roIs0x193_noExecAddsN() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_64, N64, false);
    int rw = h.insert(0x12340005L, 0xAB, false, false);
    int ro = h.insert(0x12340006L, 0xAC, true, false);
    int nx = h.insert(0x12340007L, 0xAD, true, true);
    assertThat(h.word1(rw)).isEqualTo((0xABL << 12) | 0x192);
    assertThat(h.word1(ro)).isEqualTo((0xACL << 12) | 0x193);
    assertThat(h.word1(nx)).isEqualTo((0xADL << 12) | 0x197);
    assertThat(h.lookup(0x12340005L)).isEqualTo(Lookup.HIT_RW);
    assertThat(h.lookup(0x12340006L)).isEqualTo(Lookup.HIT_RO);
    assertThat(h.lookup(0x12340007L)).isEqualTo(Lookup.HIT_RO_NOEXEC);
    assertThat(h.lookup(0x12340008L)).isEqualTo(Lookup.MISS);
    assertThat(h.pfnAt(rw)).isEqualTo(0xAB);
  }

  @Test
  void word0_64_isAvpnWithValidBit_inPrimaryGroup() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_64, N64, false);
    long vpn = 0x12340005L;
    int s = h.insert(vpn, 1, false, false);
    assertThat(s / 8).isEqualTo((int) ((0x1234L ^ 0x5L) & (N64 - 1)));
    assertThat(h.word0(s)).isEqualTo(((vpn >>> 11) << 7) | 1);
  }

  @Test
  void words32_followSpec54_pp2RwAndPp1Ro() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_32, N32, false);
    long vsid = 0x123L;
    long ea = 0x00345678L;
    long vpn = HostMmuCore.hostVpn(ea, vsid);
    int s = h.insert(vpn, 0xABC, false, true);
    assertThat(h.word0(s)).isEqualTo(0x80000000L | (vsid << 7) | ((ea & 0x0FFFFFFFL) >>> 22));
    assertThat(h.word1(s)).isEqualTo(0x00ABC000L | 0x10 | 0x100 | 0x80 | 2);
    assertThat(h.lookup(vpn)).isEqualTo(Lookup.HIT_RW); // no N bit on a 32-bit host
    int r = h.insert(vpn + 1, 0xABD, true, false);
    assertThat(h.word1(r) & 3).isEqualTo(1);
    assertThat(h.lookup(vpn + 1)).isEqualTo(Lookup.HIT_RO);
  }

  @Test
  void insert64_fillsPrimaryThenSecondary_thenEvictsRoundRobinFromPrimary() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_64, N64, false);
    int g = 77;
    int secondary = (~g) & (N64 - 1);
    for (int k = 0; k < 16; k++) {
      int s = h.insert(vpnInGroup(g, k, N64), k, false, false);
      h.setOwner(s, 1000 + k);
      assertThat(s / 8).isEqualTo(k < 8 ? g : secondary);
      assertThat(h.lastEvictedSlot()).isEqualTo(-1);
    }
    assertThat(h.word0(secondary * 8) & HostHtab.HPTE_V_SECONDARY).isNotZero();
    int s17 = h.insert(vpnInGroup(g, 16, N64), 16, false, false);
    assertThat(s17).isEqualTo(g * 8); // cursor starts at 0
    assertThat(h.lastEvictedOwner()).isEqualTo(1000);
    assertThat(h.lastEvictedVpn()).isEqualTo(vpnInGroup(g, 0, N64));
    int s18 = h.insert(vpnInGroup(g, 17, N64), 17, false, false);
    assertThat(s18).isEqualTo(g * 8 + 1); // round robin
    assertThat(h.lastEvictedOwner()).isEqualTo(1001);
    assertThat(h.stats().get(HostMmuStats.Counter.HTAB_EVICTIONS)).isEqualTo(2);
    assertThat(h.validCount()).isEqualTo(16);
    // the evicted VPN is gone, the secondary entries are found by the hardware search
    assertThat(h.lookup(vpnInGroup(g, 0, N64))).isEqualTo(Lookup.MISS);
    assertThat(h.lookupSlot(vpnInGroup(g, 9, N64))).isEqualTo(secondary * 8 + 1);
  }

  @Test
  void invalidate64_clearsOnlyWhenVpnMatches() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_64, N64, false);
    int s = h.insert(0x12340005L, 1, false, false);
    assertThat(h.invalidate(s, 0x99990005L)).isFalse();
    assertThat(h.isValid(s)).isTrue();
    assertThat(h.invalidate(s, 0x12340005L)).isTrue();
    assertThat(h.isValid(s)).isFalse();
    assertThat(h.invalidate(s, 0x12340005L)).isFalse();
    assertThat(h.stats().get(HostMmuStats.Counter.HTAB_INVALIDATIONS)).isEqualTo(1);
    assertThat(h.stats().get(HostMmuStats.Counter.HTAB_INVALIDATE_MISSES)).isEqualTo(2);
  }

  @Test
  void q5On_startsWithSecondary_thenOverwritesPrimarySlot0() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_32, N32, true);
    int g = 5;
    int secondary = (~g) & (N32 - 1);
    for (int k = 0; k < 8; k++) {
      int s = h.insert(vpnInGroup(g, k, N32), k, false, false);
      assertThat(s).isEqualTo(secondary * 8 + k);
      assertThat(h.word0(s) & HostHtab.PTE_SEC).isNotZero();
    }
    int s9 = h.insert(vpnInGroup(g, 8, N32), 8, false, false);
    assertThat(s9).isEqualTo(g * 8);
    assertThat(h.lastEvictedSlot()).isEqualTo(-1); // primary slot 0 was empty
    h.setOwner(s9, 42);
    int s10 = h.insert(vpnInGroup(g, 9, N32), 9, false, false);
    assertThat(s10).isEqualTo(g * 8); // slot 0 again, although slots 1..7 are free
    assertThat(h.lastEvictedOwner()).isEqualTo(42);
    assertThat(h.lookup(vpnInGroup(g, 8, N32))).isEqualTo(Lookup.MISS);
    // a stale invalidation for the overwritten entry zeroes the new occupant
    assertThat(h.invalidate(s9, vpnInGroup(g, 8, N32))).isTrue();
    assertThat(h.lookup(vpnInGroup(g, 9, N32))).isEqualTo(Lookup.MISS);
    assertThat(h.stats().get(HostMmuStats.Counter.HTAB_Q5_CLOBBERS)).isEqualTo(1);
  }

  @Test
  void q5Off_32bit_primaryThenSecondaryThenEvicts() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_32, N32, false);
    int g = 5;
    int secondary = (~g) & (N32 - 1);
    for (int k = 0; k < 16; k++) {
      int s = h.insert(vpnInGroup(g, k, N32), k, false, false);
      assertThat(s / 8).isEqualTo(k < 8 ? g : secondary);
    }
    int s17 = h.insert(vpnInGroup(g, 16, N32), 16, false, false);
    assertThat(s17 / 8).isEqualTo(g);
    assertThat(h.lastEvictedSlot()).isEqualTo(s17);
    assertThat(h.lookup(vpnInGroup(g, 16, N32))).isEqualTo(Lookup.HIT_RW);
  }

  @Test
  void constructor_rejectsBadSizes_andQ5On64() {
    assertThatThrownBy(() -> new HostHtab(HostKind.BOOK3S_64, 3000, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ptegCount")
        .hasMessageContaining("power of two");
    assertThatThrownBy(() -> new HostHtab(HostKind.BOOK3S_64, 1024, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ptegCount");
    assertThatThrownBy(() -> new HostHtab(HostKind.BOOK3S_32, 1 << 20, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ptegCount");
    assertThatThrownBy(() -> new HostHtab(HostKind.BOOK3S_64, N64, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("q5");
    assertThat(HostHtab.defaultHost64().ptegCount()).isEqualTo(1 << 14);
  }

  @Test
  void insert_rejectsPfnTooLarge_beforeAnyChange() {
    HostHtab h = new HostHtab(HostKind.BOOK3S_32, N32, false);
    assertThatThrownBy(() -> h.insert(0x10000L, 1L << 20, false, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pfn");
    assertThat(h.validCount()).isZero();
    assertThatThrownBy(() -> h.invalidate(-1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("slot");
  }
}
