package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmumesh.guestmmu.Fixtures.cpu64;
import static org.mmumesh.guestmmu.Fixtures.f64;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.Policy;
import org.mmumesh.common.VsidTags;

class Hash64MmuTest {
  private static final long EA = 0x10005000L;

  private static void put(Hash64Mmu mmu, long vAddr, long v, long r) {
    mmu.htab().setWord(vAddr, v);
    mmu.htab().setWord(vAddr + 8, r);
  }

  @Test
  void tv03_vpnPtegAddressesAndCompareValues() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    SlbEntry slbe = cpu64(false).findSlbe(EA);
    assertThat(Hash64Mmu.vpn(slbe, EA)).isEqualTo(0x12340005L);
    assertThat(mmu.ptegAddr(slbe, EA, false)).isEqualTo(0x01011880L);
    assertThat(Hash64Mmu.vVal(slbe, EA, false)).isEqualTo(0x0000000001234001L);
    assertThat(mmu.ptegAddr(slbe, EA, true)).isEqualTo(0x0102E700L);
    assertThat(Hash64Mmu.vVal(slbe, EA, true)).isEqualTo(0x0000000001234003L);
  }

  @Test
  void tv06_entryInTheSecondaryPteg_isFoundOnTheSecondSearch() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    put(mmu, 0x0102E700L, 0x1234003L, 0xAB012L);
    XlateResult r = mmu.xlate(cpu64(false), EA, Access.LOAD, true);
    assertThat(r.status()).isEqualTo(XlateStatus.OK);
    assertThat(r.pte().raddr()).isEqualTo(0xAB000L);
  }

  @Test
  void tv17_loadSetsR_thenStoreSetsC() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    put(mmu, 0x01011880L, 0x1234001L, 0xAB012L);
    Cpu64State cpu = cpu64(true);
    assertThat(mmu.xlate(cpu, EA, Access.LOAD, true).ok()).isTrue();
    assertThat(mmu.readWord1(0x01011880L)).isEqualTo(0xAB112L);
    assertThat(mmu.xlate(cpu, EA, Access.STORE, true).ok()).isTrue();
    assertThat(mmu.readWord1(0x01011880L)).isEqualTo(0xAB192L);
  }

  @Test
  void legacyLoad_setsCOnAWritablePage() {
    Hash64Mmu mmu = f64(Policy.LEGACY);
    put(mmu, 0x01011880L, 0x1234001L, 0xAB012L);
    assertThat(mmu.xlate(cpu64(true), EA, Access.LOAD, true).ok()).isTrue();
    assertThat(mmu.readWord1(0x01011880L)).isEqualTo(0xAB192L);
  }

  @Test
  void tv20_noExecuteBit_clearsMayExecute() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    put(mmu, 0x01011880L, 0x1234001L, 0xAB012L | Hash64Mmu.HPTE_R_N);
    XlateResult r = mmu.xlate(cpu64(true), EA, Access.IFETCH, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().mayExecute()).isFalse();
  }

  @Test
  void tv23_storeToPp3_isEpermAfterTheChange_butOkUnderLegacy() {
    for (Policy p : Policy.values()) {
      Hash64Mmu mmu = f64(p);
      put(mmu, 0x01011880L, 0x1234001L, 0xAB013L);
      XlateResult r = mmu.xlate(cpu64(true), EA, Access.STORE, true);
      assertThat(r.status())
          .as(p.name())
          .isEqualTo(p == Policy.LEGACY ? XlateStatus.OK : XlateStatus.EPERM);
      assertThat(r.pte().mayWrite()).isFalse();
      assertThat(mmu.readWord1(0x01011880L)).as("R set, C not").isEqualTo(0xAB113L);
    }
  }

  @Test
  void slbMiss_isEinval() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    assertThat(mmu.xlate(cpu64(false), 0x30000000L, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.EINVAL);
  }

  @Test
  void noMatchingHpte_isEnoent() {
    assertThat(f64(Policy.FIXED).xlate(cpu64(false), EA, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void ppZeroWithPp0_givesNoAccessInSupervisorState_andPp0Pp2IsReadOnly() {
    Hash64Mmu mmu = f64(Policy.STRICT);
    put(mmu, 0x01011880L, 0x1234001L, Hash64Mmu.HPTE_R_PP0 | 0xAB000L);
    assertThat(mmu.xlate(cpu64(false), EA, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.EPERM);
    put(mmu, 0x01011880L, 0x1234001L, Hash64Mmu.HPTE_R_PP0 | 0xAB002L);
    XlateResult r = mmu.xlate(cpu64(false), EA, Access.LOAD, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().mayWrite()).isFalse();
  }

  @Test
  void oneTerabyteSegment_usesTheLongHashAndB() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    Cpu64State cpu = new Cpu64State().setMsr(false, true, true);
    long vsid = 0x12345L;
    cpu.slbmte((vsid << 24) | SlbEntry.SLB_VSID_B_1T, (1L << 40) | SlbEntry.SLB_ESID_V | 3);
    long ea = (1L << 40) | 0x123456789L;
    SlbEntry slbe = cpu.findSlbe(ea);
    assertThat(slbe.tb()).isTrue();
    assertThat(slbe.vsid()).isEqualTo(vsid);
    long addr = mmu.enter(cpu, ea, 0x5000L | 2);
    long off = ea & ((1L << 40) - 1);
    long hash = (vsid ^ (vsid << 25) ^ (off >>> 12)) & ((1L << 39) - 1);
    assertThat(addr).isEqualTo(0x01000000L | ((hash & 0x7FF) << 7));
    assertThat(mmu.htab().word(addr) & Hash64Mmu.HPTE_V_B).isEqualTo(Hash64Mmu.HPTE_V_1T);
    XlateResult r = mmu.xlate(cpu, ea, Access.LOAD, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().raddr()).isEqualTo(0x5789L);
  }

  @Test
  void largePage16M_onMultiPageSizeCpu_requiresItsEncoding() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    Cpu64State cpu = new Cpu64State().setMsr(false, true, true);
    cpu.slbmte((0x77L << 12) | SlbEntry.SLB_VSID_L, (3L << 28) | SlbEntry.SLB_ESID_V);
    assertThat(cpu.findSlbe(0x30000000L).basePageSize()).isEqualTo(PageSize.SIZE_16M);
    long ea = 0x30ABCDEFL;
    long addr = mmu.enter(cpu, ea, 0x3000000L | 2);
    assertThat(mmu.htab().word(addr) & Hash64Mmu.HPTE_V_LARGE).isNotZero();
    XlateResult r = mmu.xlate(cpu, ea, Access.LOAD, true);
    assertThat(r.pte().pageSize()).isEqualTo(PageSize.SIZE_16M);
    assertThat(r.pte().raddr()).isEqualTo(0x3ABCDEFL);
    mmu.htab().setWord(addr + 8, 0x3001000L | 2);
    assertThat(mmu.xlate(cpu, ea, Access.LOAD, true).status())
        .as("wrong encoding: skipped")
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void page64K_viaLp01_decodesAndMasksTheOffset() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    Cpu64State cpu = new Cpu64State().setMsr(false, true, true);
    cpu.slbmte((0x99L << 12) | SlbEntry.SLB_VSID_L | 0x10, (4L << 28) | SlbEntry.SLB_ESID_V);
    assertThat(cpu.findSlbe(0x40000000L).basePageSize()).isEqualTo(PageSize.SIZE_64K);
    long ea = 0x4001ABCDL;
    long addr = mmu.enter(cpu, ea, 0x770000L | 0x1000L | 2);
    XlateResult r = mmu.xlate(cpu, ea, Access.LOAD, true);
    assertThat(r.pte().pageSize()).isEqualTo(PageSize.SIZE_64K);
    assertThat(r.pte().raddr()).isEqualTo(0x77ABCDL);
    assertThat(mmu.remove(cpu, ea))
        .isEqualTo(new HostFlush.PteVflush(0x99L << 16 | 0x1A, 0xFFFFFFFF0L));
    assertThat(mmu.htab().word(addr)).isZero();
  }

  @Test
  void largeSegment_onOldCpu_is16M() {
    Cpu64State old = new Cpu64State(64, false);
    old.slbmte((0x77L << 12) | SlbEntry.SLB_VSID_L | 0x10, (3L << 28) | SlbEntry.SLB_ESID_V);
    assertThat(old.findSlbe(0x30000000L).basePageSize()).isEqualTo(PageSize.SIZE_16M);
  }

  @Test
  void slbmte_rejectsAnIndexBeyondTheSlb_andChangesNothing() {
    Cpu64State cpu = new Cpu64State(32, true);
    assertThatThrownBy(() -> cpu.slbmte(0x1234000L, SlbEntry.SLB_ESID_V | 40))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("slb index (rb & 0xfff): 40 is out of range; allowed 0 to 31");
    for (int i = 0; i < 32; i++) {
      assertThat(cpu.slb(i)).isNull();
    }
  }

  @Test
  void slbieAndSlbia_removeTranslations() {
    Cpu64State cpu = cpu64(false);
    cpu.slbie(EA);
    assertThat(cpu.findSlbe(EA)).isNull();
    assertThat(cpu.findSlbe(0x20000000L)).isNotNull();
    cpu.slbia();
    assertThat(cpu.findSlbe(0x20000000L)).isNull();
  }

  @Test
  void tlbie_masksFollowTheCpuGeneration() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    Cpu64State p7 = new Cpu64State(64, true);
    Cpu64State p970 = new Cpu64State(64, false);
    long va = 0x12340005000L;
    assertThat(mmu.tlbie(p7, va, false))
        .isEqualTo(new HostFlush.PteVflush(va >>> 12, 0xFFFFFFFFFL));
    long va64k = 0x12340011000L | 1;
    assertThat(mmu.tlbie(p7, va64k, false))
        .isEqualTo(new HostFlush.PteVflush(va64k >>> 12, 0xFFFFFFFF0L));
    long va16m = 0x12341000000L | 1;
    assertThat(mmu.tlbie(p7, va16m, false))
        .isEqualTo(new HostFlush.PteVflush(va16m >>> 12, 0xFFFFFF000L));
    assertThat(mmu.tlbie(p970, va, true))
        .isEqualTo(new HostFlush.PteVflush(va >>> 12, 0xFFFFFF000L));
  }

  @Test
  void esidToVsid_taggingAndNoSlb() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    Cpu64State cpu = cpu64(true);
    assertThat(mmu.esidToVsid(cpu, 1)).isEqualTo(0x1234L | VsidTags.VSID_PR);
    assertThat(mmu.esidToVsid(cpu, 7)).isEqualTo(VsidTags.NO_VSID);
    cpu.setMsr(false, false, false);
    assertThat(mmu.esidToVsid(cpu, 7)).isEqualTo(VsidTags.VSID_REAL | 7);
    cpu.setMsr(false, false, true);
    assertThat(mmu.esidToVsid(cpu, 7)).isEqualTo(VsidTags.VSID_REAL_DR | 7);
  }

  @Test
  void enterOutsideAnySegment_isRejected_namingTheField() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    long writes = mmu.htab().writes();
    assertThatThrownBy(() -> mmu.enter(cpu64(false), 0x50000000L, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("ea: no valid SLB entry translates 0x50000000");
    assertThat(mmu.htab().writes()).isEqualTo(writes);
  }

  @Test
  void magicPage_overridesTheSlb() {
    Hash64Mmu mmu = f64(Policy.FIXED);
    Cpu64State cpu = cpu64(false).setMagicPage(0x7000F000L, 0x3F000L);
    XlateResult r = mmu.xlate(cpu, 0x7000F010L, Access.STORE, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().raddr()).isEqualTo(0x3F010L);
  }
}
