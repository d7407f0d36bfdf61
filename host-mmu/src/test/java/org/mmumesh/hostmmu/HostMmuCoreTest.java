package org.mmumesh.hostmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.VsidTags;

class HostMmuCoreTest {
  private static final long GVSID1 = 0x1234L; // F64 ESID 1
  private static final long GVSID2 = 0xABCDEL; // F64 ESID 2

  private static GuestPte pte(long gvsid, long ea, long raddr, boolean mayWrite, boolean exec) {
    long vpage = (gvsid << 16) | ((ea & 0x0FFFFFFFL) >>> 12);
    return new GuestPte(ea, vpage, raddr, true, mayWrite, exec, PageSize.SIZE_4K);
  }

  private static GuestPte rw(long gvsid, long ea, long raddr) {
    return pte(gvsid, ea, raddr, true, true);
  }

  // ---- rflags (spec 5.3, 8.4) -----------------------------------------------------------------

  @Test
  void tv33_readOnlyHostPage_installs0x193_withoutMarkDirty() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    MapResult r = core.mapPage(0, rw(GVSID1, 0x10005000L, 0xAB000L), GVSID1, 0x777, false);
    assertThat(r.readOnly()).isTrue();
    assertThat(r.markDirty()).isFalse();
    assertThat(core.htab().word1(r.slot())).isEqualTo((0x777L << 12) | 0x193);
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.HIT_RO);
    assertThat(core.lookup(0, GVSID1, 0x10005000L).permits(Access.STORE)).isFalse();
  }

  @Test
  void tv32_writableHostPage_andGuestRw_installs0x192_withMarkDirty() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    MapResult r = core.mapPage(0, rw(GVSID1, 0x10005000L, 0xAB000L), GVSID1, 0x777, true);
    assertThat(r.readOnly()).isFalse();
    assertThat(r.markDirty()).isTrue();
    assertThat(core.htab().word1(r.slot())).isEqualTo((0x777L << 12) | 0x192);
    assertThat(core.lookup(0, GVSID1, 0x10005ABCL)).isEqualTo(Lookup.HIT_RW);
    assertThat(core.stats().get(HostMmuStats.Counter.MARK_DIRTY)).isEqualTo(1);
  }

  @Test
  void guestReadOnly_installsReadOnly_evenWhenHostWritable() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    MapResult r =
        core.mapPage(0, pte(GVSID1, 0x10005000L, 0xAB000L, false, true), GVSID1, 0x777, true);
    assertThat(r.readOnly()).isTrue();
    assertThat(r.markDirty()).isFalse();
    assertThat(core.htab().word1(r.slot()) & 0xFFF).isEqualTo(0x193);
  }

  @Test
  void tv20_guestNoExecute_setsN() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    MapResult r =
        core.mapPage(0, pte(GVSID1, 0x10005000L, 0xAB000L, true, false), GVSID1, 0x777, true);
    assertThat(r.noExec()).isTrue();
    assertThat(core.htab().word1(r.slot()) & 0xFFF).isEqualTo(0x196);
    Lookup l = core.lookup(0, GVSID1, 0x10005000L);
    assertThat(l).isEqualTo(Lookup.HIT_RW_NOEXEC);
    assertThat(l.permits(Access.IFETCH)).isFalse();
    assertThat(l.permits(Access.STORE)).isTrue();
  }

  @Test
  void hostVpn_isPageInSegmentOrHostVsidShifted16() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    MapResult r = core.mapPage(0, rw(GVSID1, 0x10005000L, 0xAB000L), GVSID1, 1, true);
    assertThat(r.hostVpn()).isEqualTo((r.hostVsid() << 16) | 0x5);
    assertThat(r.hostVsid()).isEqualTo(ScrambledContextVsids.vsidScramble(1L << 18));
    assertThat(core.sidMap(0).findSidVsid(GVSID1)).isEqualTo(r.hostVsid());
  }

  // ---- spec 8.5 through the core --------------------------------------------------------------

  private HostMmuCore withE1toE3() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    core.mapPage(0, rw(GVSID1, 0x10005000L, 0xAB000L), GVSID1, 0x11, true);
    core.mapPage(0, rw(GVSID1, 0x10805000L, 0xAC000L), GVSID1, 0x12, true);
    core.mapPage(0, rw(GVSID2, 0x20005000L, 0xAD000L), GVSID2, 0x13, true);
    assertThat(core.cache(0).entries())
        .extracting(e -> e.pte().vpage())
        .containsExactlyInAnyOrder(0x12340005L, 0x12340805L, 0xABCDE0005L);
    return core;
  }

  @Test
  void tv41_pteFlush_removesE1AndItsHostHpte() {
    HostMmuCore core = withE1toE3();
    assertThat(core.pteFlush(0, 0x10005ABCL, ~0xFFFL)).isEqualTo(1);
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.MISS);
    assertThat(core.lookup(0, GVSID1, 0x10805000L)).isEqualTo(Lookup.HIT_RW);
    assertThat(core.htab().validCount()).isEqualTo(2);
    assertThat(core.checkInvariants().ok()).isTrue();
  }

  @Test
  void tv43_pteVflush_removesE1() {
    HostMmuCore core = withE1toE3();
    assertThat(core.pteVflush(0, 0x12340005L, 0xFFFFFFFFFL)).isEqualTo(1);
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.MISS);
    assertThat(core.cacheCount()).isEqualTo(2);
  }

  @Test
  void tv46_flushAll_removesE1E2E3() {
    HostMmuCore core = withE1toE3();
    assertThat(core.flushAll(0)).isEqualTo(3);
    assertThat(core.cacheCount()).isZero();
    assertThat(core.htab().validCount()).isZero();
    assertThat(core.stats().invalidations(InvalidationCause.FLUSH_ALL)).isEqualTo(3);
  }

  // ---- unmap_page (spec 5.5, TV34) ------------------------------------------------------------

  @Test
  void tv34_unmapAfterReadOnlyMap_thenRwMap_leavesOneEntry() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    GuestPte p = rw(GVSID1, 0x10005000L, 0xAB000L);
    core.mapPage(0, p, GVSID1, 0x500, false); // load on a KSM page: RO
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.HIT_RO);
    assertThat(core.unmapPage(0, p, false)).isEqualTo(1); // PROTFAULT path
    MapResult r = core.mapPage(0, p, GVSID1, 0x501, true); // after the COW
    assertThat(r.readOnly()).isFalse();
    assertThat(core.cache(0).count()).isEqualTo(1);
    assertThat(core.htab().validCount()).isEqualTo(1);
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.HIT_RW);
    assertThat(core.pfnOf(core.lookupSlot(0, GVSID1, 0x10005000L))).isEqualTo(0x501);
    assertThat(core.checkInvariants().ok()).isTrue();
  }

  @Test
  void mapTwiceWithoutUnmap_isReportedByTheInvariantCheck() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    GuestPte p = rw(GVSID1, 0x10005000L, 0xAB000L);
    core.mapPage(0, p, GVSID1, 0x500, false);
    core.mapPage(0, p, GVSID1, 0x501, true);
    InvariantReport rep = core.checkInvariants();
    assertThat(rep.ok()).isFalse();
    assertThat(rep.violations()).anyMatch(s -> s.contains("both map vpage"));
  }

  @Test
  void unmapPage_usesMask0xFFFFFFFF0_whenSegmentIs64k_on64BitHost() {
    long g64 = GVSID1 | VsidTags.VSID_64K;
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    GuestPte a = rw(g64, 0x10000000L, 0xA0000L);
    GuestPte b = rw(g64, 0x1000F000L, 0xAF000L);
    core.mapPage(0, a, g64, 1, true);
    core.mapPage(0, b, g64, 2, true);
    assertThat(core.unmapPage(0, a, true)).isEqualTo(2);
    core.mapPage(0, a, g64, 1, true);
    core.mapPage(0, b, g64, 2, true);
    assertThat(core.unmapPage(0, a, false)).isEqualTo(1);
    assertThat(core.cache(0).entries().get(0).hostPageSize()).isEqualTo(PageSize.SIZE_4K);
  }

  @Test
  void unmapPage_ignoresVsid64k_on32BitHost() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host32(1, true));
    GuestPte a = rw(0x123L, 0x00000000L, 0xA0000L);
    GuestPte b = rw(0x123L, 0x0000F000L, 0xAF000L);
    core.mapPage(0, a, 0x123L, 1, true);
    core.mapPage(0, b, 0x123L, 2, true);
    assertThat(core.unmapPage(0, a, true)).isEqualTo(1);
  }

  // ---- capacity, exhaustion, eviction ---------------------------------------------------------

  @Test
  void mapPage_flushesAllFirst_whenCacheHolds32768() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    for (int i = 0; i < ShadowPteCache.HPTEG_CACHE_NUM; i++) {
      long ea = 0x10000000L + ((long) i << 12);
      MapResult r = core.mapPage(0, rw(GVSID1, ea, ea), GVSID1, i, true);
      assertThat(r.fullFlush()).isFalse();
    }
    assertThat(core.htab().validCount()).isEqualTo(32768);
    long ea = 0x18000000L;
    MapResult r = core.mapPage(0, rw(GVSID1, ea, ea), GVSID1, 9, true);
    assertThat(r.cacheFullFlush()).isTrue();
    assertThat(core.cacheCount()).isEqualTo(1);
    assertThat(core.htab().validCount()).isEqualTo(1); // the new HPTE survives the flush
    assertThat(core.lookup(0, GVSID1, ea)).isEqualTo(Lookup.HIT_RW);
    assertThat(core.stats().get(HostMmuStats.Counter.CACHE_FULL_FLUSHES)).isEqualTo(1);
    assertThat(core.checkInvariants().ok()).isTrue();
  }

  @Test
  void vsidExhaustion_flushesAllShadowPtesOfTheVcpu() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(2).withEsidBits(2)); // 3 VSIDs
    core.mapPage(1, rw(0x77L, 0x0L, 0x0L), 0x77L, 9, true);
    for (long g = 1; g <= 3; g++) {
      MapResult r = core.mapPage(0, rw(g, g << 28, g << 12), g, g, true);
      assertThat(r.vsidExhaustedFlush()).isFalse();
    }
    MapResult r = core.mapPage(0, rw(4, 4L << 28, 4L << 12), 4, 4, true);
    assertThat(r.vsidExhaustedFlush()).isTrue();
    assertThat(r.fullFlush()).isTrue();
    assertThat(core.cache(0).count()).isEqualTo(1);
    assertThat(core.cache(1).count()).isEqualTo(1); // other vCPUs keep theirs
    assertThat(core.sidMap(0).validCount()).isEqualTo(1);
    assertThat(core.lookup(0, 1, 1L << 28)).isEqualTo(Lookup.MISS);
    assertThat(core.stats().get(HostMmuStats.Counter.VSID_EXHAUSTIONS)).isEqualTo(1);
    assertThat(core.stats().invalidations(InvalidationCause.VSID_EXHAUSTED)).isEqualTo(3);
    assertThat(core.checkInvariants().ok()).isTrue();
  }

  @Test
  void vsidExhaustion_on32BitHost_afterPoolOf16() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host32(1, false).withPoolContexts(1));
    for (long g = 1; g <= 16; g++) {
      long ea = (g & 0xF) << 28;
      assertThat(core.mapPage(0, rw(g, ea, 0), g, 1, true).vsidExhaustedFlush()).isFalse();
    }
    assertThat(core.mapPage(0, rw(17, 0, 0), 17, 1, true).vsidExhaustedFlush()).isTrue();
    assertThat(core.cacheCount()).isEqualTo(1);
  }

  /** Pages {@code k << 11} of one segment share their primary (and secondary) PTEG. */
  private static long eaInSameGroup(long segmentBase, int k) {
    return segmentBase + ((long) k << 23);
  }

  @Test
  void eviction64_whenPtegPairFull_dropsTheVictimsRecord() {
    HostMmuCore core =
        new HostMmuCore(HostMmuConfig.host64(1).withPtegCount(HostHtab.MIN_PTEGS_64));
    int firstSlot = -1;
    for (int k = 0; k < 16; k++) {
      long ea = eaInSameGroup(0x10000000L, k);
      MapResult r = core.mapPage(0, rw(GVSID1, ea, ea), GVSID1, k, true);
      assertThat(r.evicted()).isZero();
      if (k == 0) {
        firstSlot = r.slot();
      }
    }
    long ea16 = eaInSameGroup(0x10000000L, 16);
    MapResult r = core.mapPage(0, rw(GVSID1, ea16, ea16), GVSID1, 16, true);
    assertThat(r.evicted()).isEqualTo(1);
    assertThat(r.evictionLeftStaleRecord()).isFalse();
    assertThat(r.slot()).isEqualTo(firstSlot);
    assertThat(core.cacheCount()).isEqualTo(16);
    assertThat(core.lookup(0, GVSID1, 0x10000000L)).isEqualTo(Lookup.MISS);
    assertThat(core.stats().get(HostMmuStats.Counter.HTAB_EVICTIONS)).isEqualTo(1);
    assertThat(core.stats().invalidations(InvalidationCause.EVICTED)).isEqualTo(1);
    assertThat(core.checkInvariants().ok()).isTrue();
  }

  @Test
  void q5On_32bitHost_leavesStaleRecord_whoseInvalidationZeroesTheNewOccupant() {
    HostMmuCore core =
        new HostMmuCore(HostMmuConfig.host32(1, true).withPtegCount(HostHtab.MIN_PTEGS_32));
    long g = 0x123L;
    MapResult first = null;
    for (int k = 0; k < 9; k++) {
      long ea = eaInSameGroup(0, k);
      MapResult r = core.mapPage(0, rw(g, ea, ea), g, k, true);
      assertThat(r.evicted()).isZero();
      if (k == 0) {
        first = r;
      }
    }
    // the first 8 went to the secondary PTEG; the 9th to primary slot 0
    assertThat(core.htab().word0(first.slot()) & HostHtab.PTE_SEC).isNotZero();
    long ea8 = eaInSameGroup(0, 8);
    long ea9 = eaInSameGroup(0, 9);
    int slot8 = core.lookupSlot(0, g, ea8);
    assertThat(slot8 % 8).isZero();
    MapResult r9 = core.mapPage(0, rw(g, ea9, ea9), g, 9, true);
    assertThat(r9.slot()).isEqualTo(slot8);
    assertThat(r9.evicted()).isEqualTo(1);
    assertThat(r9.evictionLeftStaleRecord()).isTrue();
    assertThat(core.cacheCount()).isEqualTo(10); // the stale record stays
    InvariantReport rep = core.checkInvariants();
    assertThat(rep.ok()).isTrue();
    assertThat(rep.staleEntries()).isEqualTo(1);
    assertThat(core.lookup(0, g, ea8)).isEqualTo(Lookup.MISS);
    assertThat(core.lookup(0, g, ea9)).isEqualTo(Lookup.HIT_RW);

    // invalidating the stale record (page 8) zeroes the slot that now holds page 9
    assertThat(core.unmapPage(0, rw(g, ea8, ea8), false)).isEqualTo(1);
    assertThat(core.lookup(0, g, ea9)).isEqualTo(Lookup.MISS);
    assertThat(core.stats().get(HostMmuStats.Counter.HTAB_Q5_CLOBBERS)).isEqualTo(1);
    rep = core.checkInvariants();
    assertThat(rep.ok()).isTrue();
    assertThat(rep.staleEntries()).isEqualTo(1); // page 9's record now lacks its HPTE
  }

  @Test
  void q5Off_32bitHost_evictsAfterBothGroups_andDropsTheRecord() {
    HostMmuCore core =
        new HostMmuCore(HostMmuConfig.host32(1, false).withPtegCount(HostHtab.MIN_PTEGS_32));
    long g = 0x123L;
    for (int k = 0; k < 16; k++) {
      long ea = eaInSameGroup(0, k);
      assertThat(core.mapPage(0, rw(g, ea, ea), g, k, true).evicted()).isZero();
    }
    long ea = eaInSameGroup(0, 16);
    MapResult r = core.mapPage(0, rw(g, ea, ea), g, 16, true);
    assertThat(r.evicted()).isEqualTo(1);
    assertThat(r.evictionLeftStaleRecord()).isFalse();
    assertThat(core.cacheCount()).isEqualTo(16);
    InvariantReport rep = core.checkInvariants();
    assertThat(rep.ok()).isTrue();
    assertThat(rep.staleEntries()).isZero();
  }

  @Test
  void q5Stale_wouldBeAViolation_withoutQ5() {
    // The same stale state is only tolerated under Q5: build it with Q5 and check the message path
    // by contrast with a 64-bit HPTE removed behind the cache's back.
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    MapResult r = core.mapPage(0, rw(GVSID1, 0x10005000L, 0), GVSID1, 1, true);
    core.htab().invalidate(r.slot(), r.hostVpn());
    InvariantReport rep = core.checkInvariants();
    assertThat(rep.ok()).isFalse();
    assertThat(rep.violations()).anyMatch(s -> s.contains("no matching host HPTE"));
  }

  // ---- lookup and notifiers -------------------------------------------------------------------

  @Test
  void lookup_missesWithoutSidMap_andDistinguishesProblemState() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.MISS);
    assertThat(core.lookupSlot(0, GVSID1, 0x10005000L)).isEqualTo(-1);
    core.mapPage(0, rw(GVSID1, 0x10005000L, 0), GVSID1, 1, true);
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.HIT_RW);
    assertThat(core.lookup(0, GVSID1 | VsidTags.VSID_PR, 0x10005000L)).isEqualTo(Lookup.MISS);
    assertThat(core.lookup(0, GVSID1, 0x10006000L)).isEqualTo(Lookup.MISS);
  }

  @Test
  void notifierFullFlush_emptiesEveryVcpu_q8() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(3));
    for (int v = 0; v < 3; v++) {
      core.mapPage(v, rw(GVSID1, 0x10005000L, 0xAB000L), GVSID1, 1, true);
      core.mapPage(v, rw(GVSID1, 0x10006000L, 0xAC000L), GVSID1, 2, true);
    }
    assertThat(core.htab().validCount()).isEqualTo(6);
    assertThat(core.notifierFullFlush()).isEqualTo(6);
    assertThat(core.cacheCount()).isZero();
    assertThat(core.htab().validCount()).isZero();
    assertThat(core.stats().get(HostMmuStats.Counter.NOTIFIER_FULL_FLUSHES)).isEqualTo(1);
  }

  @Test
  void notifierRangeFlush_pflushesTheRangeOnEveryVcpu() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(2));
    for (int v = 0; v < 2; v++) {
      core.mapPage(v, rw(GVSID1, 0x10005000L, 0xAB000L), GVSID1, 1, true);
      core.mapPage(v, rw(GVSID1, 0x10006000L, 0xAC000L), GVSID1, 2, true);
    }
    assertThat(core.notifierRangeFlush(0xAC000L, 0xAD000L)).isEqualTo(2);
    assertThat(core.lookup(0, GVSID1, 0x10005000L)).isEqualTo(Lookup.HIT_RW);
    assertThat(core.lookup(1, GVSID1, 0x10006000L)).isEqualTo(Lookup.MISS);
    assertThat(core.stats().invalidations(InvalidationCause.PFLUSH)).isEqualTo(2);
  }

  @Test
  void vcpusHaveDistinctHostVsids_forTheSameGuestVsid() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(2));
    MapResult a = core.mapPage(0, rw(GVSID1, 0x10005000L, 0), GVSID1, 1, true);
    MapResult b = core.mapPage(1, rw(GVSID1, 0x10005000L, 0), GVSID1, 1, true);
    assertThat(a.hostVsid()).isNotEqualTo(b.hostVsid());
    assertThat(core.pteFlush(0, 0x10005000L, ~0xFFFL)).isEqualTo(1);
    assertThat(core.lookup(1, GVSID1, 0x10005000L)).isEqualTo(Lookup.HIT_RW);
  }

  @Test
  void stats_countInstallsByProtection() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(1));
    core.mapPage(0, rw(GVSID1, 0x10005000L, 0), GVSID1, 1, false);
    core.mapPage(0, rw(GVSID1, 0x10006000L, 0), GVSID1, 1, true);
    core.mapPage(0, rw(GVSID1, 0x10007000L, 0), GVSID1, 1, true);
    core.pteFlush(0, 0, 0x1234L);
    HostMmuStats s = core.stats();
    assertThat(s.get(HostMmuStats.Counter.INSTALLS_RO)).isEqualTo(1);
    assertThat(s.get(HostMmuStats.Counter.INSTALLS_RW)).isEqualTo(2);
    assertThat(s.get(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS)).isEqualTo(1);
    assertThat(s.get(HostMmuStats.Counter.SID_MAPS_CREATED)).isEqualTo(1);
    assertThat(s.toMap()).containsEntry("INSTALLS_RW", 2L);
  }

  // ---- bad input ------------------------------------------------------------------------------

  @Test
  void badInput_isRejectedBeforeAnyChange() {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host32(2, true));
    GuestPte p = rw(0x123L, 0x1000L, 0);
    assertThatThrownBy(() -> core.mapPage(2, p, 0x123L, 1, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vcpu");
    assertThatThrownBy(() -> core.mapPage(0, p, 0x123L, 1L << 20, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pfn");
    GuestPte wide = rw(0x123L, 0x1_0000_1000L, 0);
    assertThatThrownBy(() -> core.mapPage(0, wide, 0x123L, 1, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gpte.eaddr");
    assertThatThrownBy(() -> core.ptePflush(0, 0x2000, 0x1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("paEnd");
    assertThat(core.cacheCount()).isZero();
    assertThat(core.sidMap(0).validCount()).isZero();
    assertThat(core.htab().validCount()).isZero();
  }

  @Test
  void config_rejectsBadFields_namingThem() {
    assertThatThrownBy(() -> HostMmuConfig.host64(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vcpus");
    assertThatThrownBy(() -> HostMmuConfig.host64(1).withPtegCount(5000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ptegCount");
    assertThatThrownBy(
            () ->
                new HostMmuConfig(
                    HostKind.BOOK3S_64, 1, HostHtab.DEFAULT_PTEG_COUNT, true, 1, 18, 128))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("q5");
    assertThatThrownBy(() -> HostMmuConfig.host32(8, false).withFirstContextId(1 << 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("firstContextId");
  }
}
