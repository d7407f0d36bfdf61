package org.mmumesh.hostmmu;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

/**
 * {@link HostMmuCore#checkInvariantsIncremental}: agrees with the full check along random
 * histories, finds each corruption made through the HTAB's and caches' methods at the next call,
 * and leaves a raw corruption of an untouched entry to the full check.
 */
class HostMmuAuditTest {
  private static final long GVSID = 0x1234L;

  private static GuestPte rw(long ea) {
    long vpage = (GVSID << 16) | ((ea & 0x0FFFFFFFL) >>> 12);
    return new GuestPte(ea, vpage, ea & 0xFFFFFFFL, true, true, true, PageSize.SIZE_4K);
  }

  private static long ea(int page) {
    return 0x10000000L + ((long) page << 12);
  }

  private static HostMmuCore mapped(int pages) {
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(2));
    for (int p = 0; p < pages; p++) {
      core.mapPage(p % 2, rw(ea(p)), GVSID, 100 + p, true);
    }
    assertThat(core.checkInvariantsIncremental(null).ok()).isTrue();
    return core;
  }

  @Test
  void randomHistories_incrementalAgreesWithFull_onBothHostKinds() {
    for (boolean host32 : new boolean[] {false, true}) {
      HostMmuCore core =
          new HostMmuCore(
              host32
                  ? HostMmuConfig.host32(2, true).withPtegCount(HostHtab.MIN_PTEGS_32)
                  : HostMmuConfig.host64(2));
      Random rnd = new Random(host32 ? 32 : 64);
      for (int step = 0; step < 600; step++) {
        int vcpu = rnd.nextInt(2);
        int page = rnd.nextInt(64);
        switch (rnd.nextInt(6)) {
          case 0, 1, 2 -> {
            if (core.lookupSlot(vcpu, GVSID, ea(page)) < 0) {
              core.mapPage(vcpu, rw(ea(page)), GVSID, 100 + page, rnd.nextBoolean());
            }
          }
          case 3 -> core.unmapPage(vcpu, rw(ea(page)), false);
          case 4 -> core.notifierRangeFlush((long) page << 12, (long) (page + 4) << 12);
          default -> core.flushAll(vcpu);
        }
        InvariantReport inc = core.checkInvariantsIncremental(null);
        InvariantReport full = core.checkInvariants();
        assertThat(inc.violations()).as("step %d host32 %s", step, host32).isEmpty();
        assertThat(full.violations()).as("step %d host32 %s", step, host32).isEmpty();
        assertThat(inc.liveEntries()).isEqualTo(full.liveEntries());
        assertThat(inc.staleEntries()).isEqualTo(full.staleEntries());
        assertThat(inc.htabValid()).isEqualTo(full.htabValid());
      }
    }
  }

  @Test
  void hpteRemovedBehindTheCache_isFoundAtTheNextCheck() {
    HostMmuCore core = mapped(8);
    MapResult r = core.mapPage(0, rw(ea(20)), GVSID, 7, true);
    core.mapPage(1, rw(ea(21)), GVSID, 8, true); // more events after it
    core.htab().invalidate(r.slot(), r.hostVpn());
    InvariantReport rep = core.checkInvariantsIncremental(null);
    assertThat(rep.violations()).anyMatch(v -> v.contains("entry 4 has no matching host HPTE"));
    assertThat(rep.liveEntries()).isEqualTo(9);
    // and again at the next check, until repaired
    assertThat(core.checkInvariantsIncremental(null).violations())
        .anyMatch(v -> v.contains("has no matching host HPTE"));
  }

  @Test
  void slotLosingItsOwner_isFoundAtTheNextCheck() {
    HostMmuCore core = mapped(8);
    int slot = core.lookupSlot(1, GVSID, ea(3));
    core.htab().setOwner(slot, -1);
    assertThat(core.checkInvariantsIncremental(null).violations())
        .anyMatch(v -> v.contains("htab slot " + slot + " is valid but has no owner"));
  }

  @Test
  void twoReachableEntriesForOneVpage_areFoundAtTheNextCheck() {
    HostMmuCore core = mapped(4);
    // mapPage without the unmap the fault handler's protocol requires: a second HPTE and entry
    core.mapPage(0, rw(ea(2)), GVSID, 555, true);
    assertThat(core.checkInvariantsIncremental(null).violations())
        .anyMatch(v -> v.contains("another reachable entry both map vpage"))
        .anyMatch(v -> v.contains("both hold vpn"));
    assertThat(core.checkInvariants().violations()).anyMatch(v -> v.contains("both map vpage"));
  }

  @Test
  void validCountOffByOne_isFoundAtTheNextCheck_whateverWasTouched() throws Exception {
    HostMmuCore core = mapped(6);
    Field f = HostHtab.class.getDeclaredField("validCount");
    f.setAccessible(true);
    f.setInt(core.htab(), f.getInt(core.htab()) + 1);
    assertThat(core.checkInvariantsIncremental(null).violations())
        .anyMatch(v -> v.contains("htab validCount 7 != valid slots 6"));
  }

  @Test
  void brokenLinkOfAnUntouchedEntry_isLeftToTheFullCheck_untilTheEntryIsTouched() throws Exception {
    HostMmuCore core = mapped(6);
    ShadowPteCache cache = core.cache(0);
    int entry = core.htab().ownerAt(core.lookupSlot(0, GVSID, ea(4))) & 0xFFFF;
    Field f = ShadowPteCache.class.getDeclaredField("prev");
    f.setAccessible(true);
    int[][] prev = (int[][]) f.get(cache);
    prev[2][entry] = 12345; // the vpte list's back link, written behind the cache
    core.mapPage(1, rw(ea(30)), GVSID, 9, true); // other events go on
    assertThat(core.checkInvariantsIncremental(null).ok()).isTrue();
    assertThat(core.checkInvariants().violations()).anyMatch(v -> v.contains("bad back link"));
    // a change of the entry's HPTE marks it: then the incremental check sees the link too
    core.htab().setOwner(cache.slotOf(entry), HostMmuCore.ownerToken(0, entry));
    assertThat(core.checkInvariantsIncremental(null).violations())
        .anyMatch(v -> v.contains("vpte: entry " + entry + " is badly linked"));
  }
}
