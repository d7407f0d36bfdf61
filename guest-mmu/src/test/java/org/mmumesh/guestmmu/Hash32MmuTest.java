package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmumesh.guestmmu.Fixtures.cpu32;
import static org.mmumesh.guestmmu.Fixtures.f32;
import static org.mmumesh.guestmmu.Fixtures.put32;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.common.VsidTags;

class Hash32MmuTest {
  private static final long EA = 0x00345678L;

  @Test
  void tv01_primaryAndSecondaryPtegAddressesAndPtem() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    int sr = 0x20000123;
    assertThat(mmu.ptegAddr(sr, EA, true)).isEqualTo(0x00109980L);
    assertThat(Hash32Mmu.ptem(sr, EA, true)).isEqualTo(0x80009180L);
    assertThat(mmu.ptegAddr(sr, EA, false)).isEqualTo(0x00136640L);
    assertThat(Hash32Mmu.ptem(sr, EA, false)).isEqualTo(0x800091C0L);
  }

  @Test
  void tv09_problemStateLoadOnPp2_setsROnly() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    long pte = put32(mmu, 2);
    XlateResult r = mmu.xlate(cpu32(true), EA, Access.LOAD, true);
    assertThat(r.status()).isEqualTo(XlateStatus.OK);
    assertThat(r.pte().raddr()).isEqualTo(0x00ABC678L);
    assertThat(r.pte().mayRead()).isTrue();
    assertThat(r.pte().mayWrite()).isTrue();
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC112L);
  }

  @Test
  void tv10_problemStateStoreOnPp2_setsRAndC() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    long pte = put32(mmu, 2);
    assertThat(mmu.xlate(cpu32(true), EA, Access.STORE, true).status()).isEqualTo(XlateStatus.OK);
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC192L);
  }

  @Test
  void tv11_loadOnKeyOnePpZero_isEperm_whenQ2Off() {
    Hash32Mmu mmu = f32(Policy.STRICT);
    long pte = put32(mmu, 0);
    XlateResult r = mmu.xlate(cpu32(true), EA, Access.LOAD, true);
    assertThat(r.status()).isEqualTo(XlateStatus.EPERM);
    assertThat(r.pte().mayRead()).isFalse();
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC010L);
  }

  @Test
  void tv11_loadOnKeyOnePpZero_isEnoent_whenQ2OnAndSecondaryEmpty() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    long pte = put32(mmu, 0);
    assertThat(mmu.xlate(cpu32(true), EA, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.ENOENT);
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC010L);
  }

  @Test
  void tv22_legacyLoadOnPp2_setsCToo() {
    Hash32Mmu mmu = f32(Policy.LEGACY);
    long pte = put32(mmu, 2);
    assertThat(mmu.xlate(cpu32(true), EA, Access.LOAD, true).ok()).isTrue();
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC192L);
  }

  @Test
  void tv24_legacySkipsTheUnreadableEntry_andReturnsEnoent() {
    Hash32Mmu mmu = f32(Policy.LEGACY);
    put32(mmu, 0);
    assertThat(mmu.xlate(cpu32(true), EA, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void legacySkip_findsALaterReadableEntryInTheSameGroup() {
    Hash32Mmu mmu = f32(Policy.LEGACY);
    put32(mmu, 0);
    mmu.htab().setWord(0x00109988L, 0x80009180L);
    mmu.htab().setWord(0x0010998CL, 0x00DEF000L | 2);
    XlateResult r = mmu.xlate(cpu32(true), EA, Access.LOAD, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().raddr()).isEqualTo(0x00DEF678L);
  }

  @Test
  void fixed_usesTheFirstMatchingEntry_evenWhenItGivesNoAccess() {
    Hash32Mmu mmu = f32(Policy.STRICT);
    put32(mmu, 0);
    mmu.htab().setWord(0x00109988L, 0x80009180L);
    mmu.htab().setWord(0x0010998CL, 0x00DEF000L | 2);
    assertThat(mmu.xlate(cpu32(true), EA, Access.LOAD, true).status()).isEqualTo(XlateStatus.EPERM);
  }

  @Test
  void storeToReadOnlyPage_isEperm_afterTheChange_butOkUnderLegacy_andRIsSetAnyway() {
    for (Policy p : Policy.values()) {
      Hash32Mmu mmu = f32(MmuOptions.defaults(p).with(Quirk.Q2_SECONDARY_HIDES_EPERM, false));
      long pte = put32(mmu, 3);
      XlateResult r = mmu.xlate(cpu32(true), EA, Access.STORE, true);
      assertThat(r.status())
          .as(p.name())
          .isEqualTo(p == Policy.LEGACY ? XlateStatus.OK : XlateStatus.EPERM);
      assertThat(mmu.readWord1(pte)).as(p.name()).isEqualTo(0x00ABC113L);
    }
  }

  @Test
  void storeToReadOnlyPage_withQ2_becomesEnoent_whenTheSecondaryHasNoMatch() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    long pte = put32(mmu, 3);
    assertThat(mmu.xlate(cpu32(true), EA, Access.STORE, true).status())
        .isEqualTo(XlateStatus.ENOENT);
    assertThat(mmu.readWord1(pte) & Hash32Mmu.PTE_R).as("R set by the primary search").isNotZero();
  }

  @Test
  void secondaryPtegHit_isFoundOnTheSecondSearch() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    mmu.htab().setWord(0x00136640L + 8 * 3, 0x800091C0L);
    mmu.htab().setWord(0x00136644L + 8 * 3, 0x00777000L | 2);
    XlateResult r = mmu.xlate(cpu32(false), EA, Access.LOAD, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().raddr()).isEqualTo(0x00777678L);
  }

  @Test
  void supervisorState_usesKsZero_soPp0IsReadWrite() {
    Hash32Mmu mmu = f32(Policy.STRICT);
    put32(mmu, 0);
    XlateResult r = mmu.xlate(cpu32(false), EA, Access.STORE, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().mayWrite()).isTrue();
  }

  @Test
  void guestVisibleFalse_leavesTheHtabUnchanged() {
    Hash32Mmu mmu = f32(Policy.LEGACY);
    long pte = put32(mmu, 2);
    long writes = mmu.htab().writes();
    assertThat(mmu.xlate(cpu32(true), EA, Access.STORE, false).ok()).isTrue();
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC012L);
    assertThat(mmu.htab().writes()).isEqualTo(writes);
  }

  @Test
  void q1_rcWritesNeverLand() {
    Hash32Mmu mmu = f32(MmuOptions.defaults(Policy.FIXED).with(Quirk.Q1_RC_LOST, true));
    long pte = put32(mmu, 2);
    assertThat(mmu.xlate(cpu32(true), EA, Access.STORE, true).ok()).isTrue();
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC012L);
  }

  @Test
  void rcUpdates_areSingleByteWrites_leavingOtherBytesAlone() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    long pte = put32(mmu, 2);
    mmu.htab().setWord(pte + 4, 0xFFFFFE7AL);
    assertThat(mmu.xlate(cpu32(false), EA, Access.STORE, true).ok()).isTrue();
    assertThat(mmu.readWord1(pte)).isEqualTo(0xFFFFFFFAL);
  }

  @Test
  void tv27_dbatHit_translatesWithoutThePageTable() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(false).setBat(false, 0, 0x00001FFEL, 0x10000002L);
    long writes = mmu.htab().writes();
    XlateResult r = mmu.xlate(cpu, 0x00123456L, Access.STORE, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().raddr()).isEqualTo(0x10123456L);
    assertThat(r.pte().mayWrite()).isTrue();
    assertThat(mmu.htab().writes()).isEqualTo(writes);
  }

  @Test
  void bat_isIgnoredInProblemState_whenVpIsClear() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(true).setBat(false, 0, 0x00001FFEL, 0x10000002L);
    assertThat(mmu.xlate(cpu, 0x00123456L, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void ibat_servesInstructionFetches_andDbatDoesNot() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(false).setBat(true, 2, 0x00001FFEL, 0x20000001L);
    assertThat(mmu.xlate(cpu, 0x00000100L, Access.IFETCH, true).pte().raddr())
        .isEqualTo(0x20000100L);
    assertThat(mmu.xlate(cpu, 0x00000100L, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void readOnlyBat_servesLoadsAfterTheChange_butIsIgnoredByLegacy() {
    Cpu32State cpu = cpu32(false).setBat(false, 0, 0x00001FFEL, 0x10000001L);
    assertThat(f32(Policy.FIXED).xlate(cpu, 0x1000L, Access.LOAD, true).ok()).isTrue();
    assertThat(f32(Policy.LEGACY).xlate(cpu, 0x1000L, Access.LOAD, true).status())
        .isEqualTo(XlateStatus.ENOENT);
    assertThat(f32(Policy.FIXED).xlate(cpu, 0x1000L, Access.STORE, true).status())
        .as("a read-only BAT is skipped for stores and the page table has nothing")
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void q3_batPp3CountsAsWritable_onlyWithTheQuirk() {
    Cpu32State cpu = cpu32(false).setBat(false, 0, 0x00001FFEL, 0x10000003L);
    assertThat(f32(Policy.FIXED).xlate(cpu, 0x1000L, Access.STORE, true).ok()).isTrue();
    assertThat(f32(Policy.STRICT).xlate(cpu, 0x1000L, Access.STORE, true).status())
        .isEqualTo(XlateStatus.ENOENT);
    assertThat(f32(Policy.STRICT).xlate(cpu, 0x1000L, Access.LOAD, true).pte().mayWrite())
        .isFalse();
  }

  @Test
  void magicPage_isReadWriteExecute_inSupervisorStateOnly() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(false).setMagicPage(0xFFFFF000L, 0x03FFF000L);
    XlateResult r = mmu.xlate(cpu, 0xFFFFF123L, Access.STORE, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().raddr()).isEqualTo(0x03FFF123L);
    cpu.setMsr(true, true, true);
    assertThat(mmu.xlate(cpu, 0xFFFFF123L, Access.STORE, true).status())
        .isEqualTo(XlateStatus.ENOENT);
  }

  @Test
  void vpage_carriesVsidPrInProblemState_asTheKernelShiftsIt() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    put32(mmu, 2);
    long sup = mmu.xlate(cpu32(false), EA, Access.LOAD, true).pte().vpage();
    assertThat(sup).isEqualTo(0x345L | (0x123L << 16));
    assertThat(mmu.esidToVsid(cpu32(true), 0)).isEqualTo(0x123L | VsidTags.VSID_PR);
  }

  @Test
  void esidToVsid_tagsEachTranslationMode() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(false);
    assertThat(mmu.esidToVsid(cpu.setMsr(false, false, false), 3))
        .isEqualTo(VsidTags.VSID_REAL | 3);
    assertThat(mmu.esidToVsid(cpu.setMsr(false, true, false), 0))
        .isEqualTo(VsidTags.VSID_REAL_IR | 0x123);
    assertThat(mmu.esidToVsid(cpu.setMsr(false, false, true), 0))
        .isEqualTo(VsidTags.VSID_REAL_DR | 0x123);
    cpu.setMsr(false, true, true).mtsrin(5, 0x80000042L);
    assertThat(mmu.esidToVsid(cpu, 5)).as("T=1 is invalid").isEqualTo(VsidTags.VSID_BAT | 5);
  }

  @Test
  void eaBeyond32Bits_isRejected_namingTheField() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    assertThatThrownBy(() -> mmu.xlate(cpu32(false), 0x1_0000_0000L, Access.LOAD, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ea: 0x100000000 is out of range; allowed 0x0 to 0xffffffff");
  }

  @Test
  void enterFindRemove_roundTrip_andRemoveAsksForTheTlbieFlush() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(false);
    long addr = mmu.enter(cpu, EA, 0x00ABC002L);
    assertThat(addr).isEqualTo(0x00109980L);
    assertThat(mmu.findPte(cpu, EA)).isEqualTo(addr);
    assertThat(mmu.xlate(cpu, EA, Access.LOAD, true).pte().raddr()).isEqualTo(0x00ABC678L);
    HostFlush flush = mmu.remove(cpu, EA);
    assertThat(flush).isEqualTo(new HostFlush.PteFlush(EA, 0x0FFFF000L));
    assertThat(mmu.findPte(cpu, EA)).isEqualTo(-1);
    assertThat(mmu.remove(cpu, EA)).isNull();
  }

  @Test
  void enter_fillsThePrimaryThenTheSecondary_thenReportsFull() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    Cpu32State cpu = cpu32(false);
    for (int i = 0; i < 8; i++) {
      assertThat(mmu.enter(cpu, EA, 0x1000L)).isEqualTo(0x00109980L + 8L * i);
    }
    for (int i = 0; i < 8; i++) {
      assertThat(mmu.enter(cpu, EA, 0x1000L)).isEqualTo(0x00136640L + 8L * i);
    }
    long writes = mmu.htab().writes();
    assertThat(mmu.enter(cpu, EA, 0x1000L)).isEqualTo(-1);
    assertThat(mmu.htab().writes()).isEqualTo(writes);
  }

  @Test
  void clearRc_clearsOnlyTheRequestedBits_andRejectsOthers() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    long pte = put32(mmu, 2);
    mmu.xlate(cpu32(true), EA, Access.STORE, true);
    assertThat(mmu.clearRc(pte, Hash32Mmu.PTE_C)).isEqualTo(0x00ABC192L);
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC112L);
    assertThatThrownBy(() -> mmu.clearRc(pte, 0x3))
        .hasMessageContaining("bits")
        .hasMessageContaining("allowed");
    assertThat(mmu.readWord1(pte)).isEqualTo(0x00ABC112L);
  }

  @Test
  void trace_describesTheWalk() {
    Hash32Mmu mmu = f32(Policy.FIXED);
    put32(mmu, 2);
    List<String> lines = new ArrayList<>();
    mmu.xlate(cpu32(true), EA, Access.LOAD, true, lines::add);
    assertThat(String.join("\n", lines))
        .contains("primary PTEG 0x00109980, ptem 0x80009180")
        .contains("slot 0 matches")
        .contains("R set, C clear")
        .contains("result: OK (0)");
  }
}
