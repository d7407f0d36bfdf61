package org.mmumesh.hostmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.VsidTags;

class SidMapTest {

  @Test
  void tv50_sidHash_gvsid1234_isSlot03D_alternate1C2() {
    assertThat(SidMap.sidHash(0x1234L)).isEqualTo(0x03D);
    assertThat(SidMap.SID_MAP_MASK - SidMap.sidHash(0x1234L)).isEqualTo(0x1C2);
  }

  @Test
  void tv50_createSidMap_alternatesSlots_withSharedToggle() {
    SidMapToggle toggle = new SidMapToggle();
    SidMap a = new SidMap(toggle, VsidAllocator.host64(1, 18));
    SidMap b = new SidMap(toggle, VsidAllocator.host64(2, 18));
    assertThat(a.createSidMap(0x1234L).slot()).isEqualTo(0x03D);
    // the toggle is host-wide: vCPU b's first map goes to the alternate slot
    assertThat(b.createSidMap(0x1234L).slot()).isEqualTo(0x1C2);
    assertThat(a.createSidMap(0x1234L | VsidTags.VSID_PR).slot())
        .isEqualTo(SidMap.sidHash(0x1234L | VsidTags.VSID_PR));
  }

  @Test
  void sidHash_includesVsidPr() {
    // VSID_PR is bit 63: field 7 holds bit 63 as its bit 0 ((63 - 63) ... 0x100 >> ...)
    int plain = SidMap.sidHash(0x1234L);
    int pr = SidMap.sidHash(0x1234L | VsidTags.VSID_PR);
    assertThat(pr).isNotEqualTo(plain);
    long expected = 0;
    long g = 0x1234L | VsidTags.VSID_PR;
    for (int k = 0; k < 8; k++) {
      expected ^= (g >>> (9 * k)) & 0x1FF;
    }
    assertThat(pr).isEqualTo((int) expected);
  }

  @Test
  void findSidVsid_probesHashThenAlternate() {
    SidMapToggle toggle = new SidMapToggle();
    SidMap m = new SidMap(toggle, VsidAllocator.host64(1, 18));
    toggle.next(); // next creation uses the alternate slot
    SidMapping created = m.createSidMap(0x1234L);
    assertThat(created.slot()).isEqualTo(0x1C2);
    assertThat(m.findSidVsid(0x1234L)).isEqualTo(created.hostVsid());
    assertThat(m.findSidVsid(0x1235L)).isEqualTo(SidMap.NOT_FOUND);
  }

  @Test
  void mapSegment_reusesAnExistingMap() {
    SidMap m = new SidMap(new SidMapToggle(), VsidAllocator.host64(1, 18));
    SidMapping first = m.mapSegment(0xABCDEL);
    SidMapping again = m.mapSegment(0xABCDEL);
    assertThat(first.created()).isTrue();
    assertThat(again.created()).isFalse();
    assertThat(again.hostVsid()).isEqualTo(first.hostVsid());
    assertThat(m.stats().get(HostMmuStats.Counter.SID_MAPS_CREATED)).isEqualTo(1);
  }

  @Test
  void createSidMap_overwritesACollidingMap() {
    SidMap m = new SidMap(new SidMapToggle(), VsidAllocator.host64(1, 18));
    // 0x1 and 0x200 hash to the same slot (1); the toggle sends them to 1 and 510
    m.createSidMap(0x1L);
    m.createSidMap(0x200L);
    assertThat(m.findSidVsid(0x1L)).isNotEqualTo(SidMap.NOT_FOUND);
    assertThat(m.findSidVsid(0x200L)).isNotEqualTo(SidMap.NOT_FOUND);
    // third colliding map goes to slot 1 again and overwrites 0x1
    m.createSidMap(0x403L);
    assertThat(m.findSidVsid(0x1L)).isEqualTo(SidMap.NOT_FOUND);
    assertThat(m.findSidVsid(0x403L)).isNotEqualTo(SidMap.NOT_FOUND);
  }

  @Test
  void vsidExhaustion_resetsRange_clearsAllSlots_andSignalsFlush() {
    // esidBits 2: proto-VSIDs ctx<<18 .. (ctx<<18)+2, three VSIDs
    SidMap m = new SidMap(new SidMapToggle(), VsidAllocator.host64(5, 2));
    long v1 = m.createSidMap(0x10L).hostVsid();
    assertThat(m.createSidMap(0x20L).flushAll()).isFalse();
    assertThat(m.createSidMap(0x30L).flushAll()).isFalse();
    assertThat(m.validCount()).isEqualTo(3);
    SidMapping fourth = m.createSidMap(0x40L);
    assertThat(fourth.flushAll()).isTrue();
    assertThat(fourth.hostVsid()).isEqualTo(v1); // the range started again
    assertThat(m.validCount()).isEqualTo(1);
    assertThat(m.findSidVsid(0x10L)).isEqualTo(SidMap.NOT_FOUND);
    assertThat(m.stats().get(HostMmuStats.Counter.VSID_EXHAUSTIONS)).isEqualTo(1);
  }

  @Test
  void host64Allocator_kernelRange_scramblesDistinctVsids() {
    VsidAllocator a = VsidAllocator.host64(3, 18);
    assertThat(a.capacity()).isEqualTo((1L << 18) - 1);
    long first = a.allocate();
    assertThat(first).isEqualTo(ScrambledContextVsids.vsidScramble(3L << 18));
    assertThat(first).isEqualTo(((3L << 18) * 12538073L) % ((1L << 37) - 1));
    Set<Long> seen = new HashSet<>();
    seen.add(first);
    for (int i = 1; i < a.capacity(); i++) {
      assertThat(seen.add(a.allocate())).isTrue();
    }
    assertThat(a.exhausted()).isTrue();
    assertThatThrownBy(a::allocate).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void host32Pool_is16x128_ctxToVsid() {
    VsidAllocator a = VsidAllocator.host32(1, 128);
    assertThat(a.capacity()).isEqualTo(2048);
    assertThat(a.allocate()).isEqualTo((897 * 16) & 0xFFFFFF);
    assertThat(a.allocate()).isEqualTo((897 * 16 + 0x111) & 0xFFFFFF);
    Set<Long> seen = new HashSet<>();
    a.reset();
    for (int i = 0; i < 2048; i++) {
      assertThat(seen.add(a.allocate())).isTrue();
    }
    assertThat(a.exhausted()).isTrue();
  }

  @Test
  void allocators_rejectBadInput_namingTheField() {
    assertThatThrownBy(() -> VsidAllocator.host64(0, 18))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("contextId");
    assertThatThrownBy(() -> VsidAllocator.host64(1, 19))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("esidBits");
    assertThatThrownBy(() -> VsidAllocator.host32(1, 129))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("contexts");
  }
}
