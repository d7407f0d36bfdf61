package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmumesh.guestmmu.Fixtures.MEM;
import static org.mmumesh.guestmmu.Fixtures.cpu32;
import static org.mmumesh.guestmmu.Fixtures.cpu64;
import static org.mmumesh.guestmmu.Fixtures.f32;
import static org.mmumesh.guestmmu.Fixtures.f64;
import static org.mmumesh.guestmmu.Fixtures.put32;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/**
 * {@code mtspr SDR1} on the cores: the HTAB is guest memory, so a table at another origin finds the
 * words written there and not the old ones, and switching back finds the old ones again (spec 2.2,
 * 3.2; {@code kvmppc_core_emulate_mtspr_pr}).
 */
class Sdr1Test {
  private static final long EA32 = 0x00345678L;
  private static final long EA64 = 0x10005000L;
  private static final MmuOptions FIXED = MmuOptions.defaults(Policy.FIXED);

  private static Guest32 guest32(int vcpus) {
    return new Guest32(GuestHtab.forSdr1Book3s32(0x00100003L, MEM), FIXED, vcpus);
  }

  private static Guest64 guest64(int vcpus) {
    return new Guest64(GuestHtab.forSdr1Book3s64(0x01000000L, MEM), FIXED, vcpus);
  }

  @Test
  void hash32_atANewOrigin_findsNotTheOldEntry_butTheOneEnteredThere() {
    Hash32Mmu old = f32(FIXED);
    put32(old, 2);
    Hash32Mmu moved = new Hash32Mmu(old.htab().withSdr1(0x00200003L), FIXED);
    Cpu32State cpu = cpu32(true);

    assertThat(moved.ptegAddr(cpu.findSr(EA32), EA32, true)).isEqualTo(0x00209980L);
    assertThat(moved.xlate(cpu, EA32, Access.LOAD, true).status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(moved.enter(cpu, EA32, 0x00DEF010L | 2)).isEqualTo(0x00209980L);
    assertThat(moved.xlate(cpu, EA32, Access.LOAD, true).pte().raddr()).isEqualTo(0x00DEF678L);
    // the old table's words stayed where they were
    assertThat(old.xlate(cpu, EA32, Access.LOAD, true).pte().raddr()).isEqualTo(0x00ABC678L);
    assertThat(old.htab().word(0x00109980L)).isEqualTo(0x80009180L);
    assertThat(moved.htab().sameMemoryAs(old.htab())).isTrue();
  }

  @Test
  void hash64_atANewOrigin_findsNotTheOldEntry_butTheOneEnteredThere() {
    Hash64Mmu old = f64(FIXED);
    old.htab().setWord(0x01011880L, 0x0000000001234001L);
    old.htab().setWord(0x01011888L, 0xAB012L);
    Hash64Mmu moved = new Hash64Mmu(old.htab().withSdr1(0x02000000L), FIXED);
    Cpu64State cpu = cpu64(false);
    SlbEntry slbe = cpu.findSlbe(EA64);

    assertThat(moved.ptegAddr(slbe, EA64, false)).isEqualTo(0x02011880L);
    assertThat(moved.xlate(cpu, EA64, Access.LOAD, true).status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(moved.enter(cpu, EA64, 0xCD012L)).isEqualTo(0x02011880L);
    assertThat(moved.xlate(cpu, EA64, Access.LOAD, true).pte().raddr()).isEqualTo(0xCD000L);
    assertThat(old.xlate(cpu, EA64, Access.LOAD, true).pte().raddr()).isEqualTo(0xAB000L);
  }

  @Test
  void guest32_setSdr1_movesThatVcpuOnly_andSwitchingBackFindsTheOldEntry() {
    Guest32 g = guest32(2);
    long ea = 0x10003000L;
    long oldPte = g.enter(0, ea, 0x42, 2);
    g.setSdr1(0, 0x00200003L);

    assertThat(g.htab(0).origin()).isEqualTo(0x00200000L);
    assertThat(g.htab(1).origin()).isEqualTo(0x00100000L);
    assertThat(g.xlate(0, ea, Access.LOAD, true).status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(g.xlate(1, ea, Access.LOAD, true).pte().gfn()).isEqualTo(0x42);

    long newPte = g.enter(0, ea, 0x43, 2);
    assertThat(g.htab(0).contains(newPte)).isTrue();
    assertThat(g.htab(1).contains(newPte)).isFalse();
    assertThat(g.findPte(0, ea)).isEqualTo(newPte);
    assertThat(g.findPte(1, ea)).isEqualTo(oldPte);
    assertThat(g.xlate(0, ea, Access.STORE, true).pte().gfn()).isEqualTo(0x43);
    assertThat(g.cBit(newPte)).isTrue(); // HPTE-address operations reach either table
    assertThat(g.cBit(oldPte)).isFalse();

    g.setSdr1(0, 0x00100003L);
    assertThat(g.xlate(0, ea, Access.LOAD, true).pte().gfn()).isEqualTo(0x42);
    assertThat(g.htab(0)).isSameAs(g.htab(1));
    // the entry of the other table is still in guest memory, found when switching there again
    g.setSdr1(1, 0x00200003L);
    assertThat(g.xlate(1, ea, Access.LOAD, true).pte().gfn()).isEqualTo(0x43);
  }

  @Test
  void guest64_setSdr1_movesThatVcpuOnly_andSwitchingBackFindsTheOldEntry() {
    Guest64 g = guest64(2);
    long ea = 0x10007000L;
    g.loadSegment(0, ea);
    g.loadSegment(1, ea);
    long oldPte = g.enter(0, ea, 0x42, 2);
    g.setSdr1(0, 0x02000001L); // 512 KiB at 32 MiB

    assertThat(g.htab(0).sizeBytes()).isEqualTo(512 << 10);
    assertThat(g.xlate(0, ea, Access.LOAD, true).status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(g.xlate(1, ea, Access.LOAD, true).pte().gfn()).isEqualTo(0x42);
    long newPte = g.enter(0, ea, 0x43, 2);
    assertThat(newPte).isBetween(0x02000000L, 0x02080000L - 16);
    assertThat(g.findPte(1, ea)).isEqualTo(oldPte);

    g.setSdr1(0, 0x01000000L);
    assertThat(g.xlate(0, ea, Access.LOAD, true).pte().gfn()).isEqualTo(0x42);
  }

  @Test
  void guest32_badSdr1_isRefusedNamingSdr1_andChangesNothing() {
    Guest32 g = guest32(1);
    g.enter(0, 0x10003000L, 0x42, 2);
    long writes = g.htab(0).writes();
    assertThatThrownBy(() -> g.setSdr1(0, 0))
        .hasMessageStartingWith("sdr1: 0 is refused")
        .hasMessageContaining("ends at or below 0x4000000");
    assertThatThrownBy(() -> g.setSdr1(0, 0x00110003L)) // 256 KiB table at a 64 KiB boundary
        .hasMessageStartingWith("sdr1.HTABORG:");
    assertThatThrownBy(() -> g.setSdr1(0, 0x04000000L)) // at the end of the 64 MiB
        .hasMessageStartingWith("sdr1: the HTAB [0x4000000, 0x4010000) does not fit");
    assertThatThrownBy(() -> g.setSdr1(0, 0x00100005L)).hasMessageStartingWith("sdr1.HTABMASK:");
    assertThatThrownBy(() -> g.setSdr1(0, 0x1_0010_0000L)).hasMessageStartingWith("sdr1:");
    assertThatThrownBy(() -> g.setSdr1(1, 0x00200000L)).hasMessageStartingWith("vcpu:");
    assertThat(g.htab(0).sdr1()).isEqualTo(0x00100003L);
    assertThat(g.htab(0).writes()).isEqualTo(writes);
    assertThat(g.xlate(0, 0x10003000L, Access.LOAD, true).ok()).isTrue();
  }

  @Test
  void guest64_badSdr1_isRefusedNamingSdr1_andChangesNothing() {
    Guest64 g = guest64(1);
    assertThatThrownBy(() -> g.setSdr1(0, 0))
        .hasMessageStartingWith("sdr1: 0 is refused")
        .hasMessageContaining("HTABSIZE 0 to 28");
    assertThatThrownBy(() -> g.setSdr1(0, 0x01000000L | 29))
        .hasMessageStartingWith("sdr1.HTABSIZE: 29 is out of range; allowed 0 to 28");
    assertThatThrownBy(() -> g.setSdr1(0, 0x01040001L)) // 512 KiB at a 256 KiB boundary
        .hasMessageStartingWith("sdr1.HTABORG:");
    assertThatThrownBy(() -> g.setSdr1(0, 0x04000000L)).hasMessageContaining("does not fit");
    assertThatThrownBy(() -> g.setSdr1(0, 0x01000020L)).hasMessageContaining("reserved");
    assertThat(g.htab(0).sdr1()).isEqualTo(0x01000000L);
  }

  @Test
  void settingTheSameSdr1Again_changesNothing() {
    Guest32 g = guest32(2);
    GuestHtab before = g.htab(0);
    g.setSdr1(0, 0x00100003L);
    assertThat(g.htab(0)).isSameAs(before);
  }

  @Test
  void forEachNonZeroWord_visitsEveryTableOfTheVm_inAddressOrder() {
    Guest32 g = guest32(2);
    long ea = 0x10003000L;
    long oldPte = g.enter(1, ea, 0x42, 2);
    g.setSdr1(0, 0x00200003L);
    long newPte = g.enter(0, ea, 0x43, 2);
    List<Long> addrs = new ArrayList<>();
    g.htab(1).forEachNonZeroWord((a, w) -> addrs.add(a));
    assertThat(addrs).containsExactly(oldPte, oldPte + 4, newPte, newPte + 4);
  }

  @Test
  void tablesInDifferent16MiBRegions_keepTheirWords_andAreVisitedInAddressOrder() {
    Guest64 g = guest64(1); // the table at 16 MiB
    long ea = 0x10007000L;
    g.loadSegment(0, ea);
    long high = g.enter(0, ea, 0x42, 2);
    g.setSdr1(0, 0x00040000L); // 256 KiB at 256 KiB
    long low = g.enter(0, ea, 0x43, 2);
    assertThat(low).isLessThan(1L << 24);
    assertThat(high).isGreaterThanOrEqualTo(1L << 24);
    List<Long> addrs = new ArrayList<>();
    g.htab(0).forEachNonZeroWord((a, w) -> addrs.add(a));
    assertThat(addrs).containsExactly(low, low + 8, high, high + 8);
    g.setSdr1(0, 0x01000000L);
    assertThat(g.xlate(0, ea, Access.LOAD, true).pte().gfn()).isEqualTo(0x42);
  }

  @Test
  void guestKernelDemandMap_insertsIntoTheTableTheFaultingVcpusSdr1Names() {
    Guest32 g = guest32(2);
    GuestKernel k =
        new GuestKernel(g, 0x10000000L, 64, 2, ProtectionPolicy.UPGRADE, e -> {}, f -> {});
    g.setSdr1(0, 0x00200003L);
    long ea = 0x10005000L;
    assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea))
        .isEqualTo(GuestKernel.Outcome.RETRY);
    assertThat(g.findPte(0, ea)).isBetween(0x00200000L, 0x0023FFF8L);
    assertThat(g.xlate(0, ea, Access.LOAD, true).pte().gfn()).isEqualTo(5);
    assertThat(g.xlate(1, ea, Access.LOAD, true).status()).isEqualTo(XlateStatus.ENOENT);
  }
}
