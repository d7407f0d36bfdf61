package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmumesh.guestmmu.ActorFixtures.BASE;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/** The core additions the GuestMmu actor needs: limits, R bit, kernel H_ENTER / H_REMOVE. */
class GuestPortAdditionsTest {
  private final List<HostFlush> flushes = new ArrayList<>();
  private final List<GuestKernel.Event> events = new ArrayList<>();

  @Test
  void limits_areTheMmuKinds() {
    GuestMmuPort g32 = ActorFixtures.setup32().newPort();
    GuestMmuPort g64 = ActorFixtures.setup64().newPort();
    assertThat(g32.vcpus()).isEqualTo(2);
    assertThat(g32.maxEa()).isEqualTo(0xFFFFFFFFL);
    assertThat(g32.maxGfn()).isEqualTo(0xFFFFF);
    assertThat(g64.maxEa()).isEqualTo(-1L);
    assertThat(g64.maxGfn()).isEqualTo(0x3FFFFFFFFFFFFL);
    g64.checkEa(-1L);
    g64.checkEsid(0xFFFFFFFFFL);
    assertThatThrownBy(() -> g32.checkVcpu(2))
        .hasMessage("vcpu: 2 is out of range; allowed 0 to 1");
    assertThatThrownBy(() -> g32.checkEsid(16))
        .hasMessage("esid: 0x10 is out of range; allowed 0x0 to 0xf");
    assertThatThrownBy(() -> g32.checkEa(1L << 32))
        .hasMessage("ea: 0x100000000 is out of range; allowed 0x0 to 0xffffffff");
  }

  @Test
  void kernelEnter_thenRemove_tlbiesThePage_andRBitFollowsXlate_32() {
    GuestSetup s = ActorFixtures.setup32();
    GuestMmuPort g = s.newPort();
    GuestKernel k = s.newKernel(g, events::add, flushes::add);
    long ea = BASE + 0x7000;
    long pte = k.enter(0, ea, 0x42, 2);
    assertThat(pte).isEqualTo(g.findPte(0, ea)).isNotNegative();
    assertThat(g.rBit(pte)).isFalse();
    g.xlate(0, ea, Access.LOAD, true);
    assertThat(g.rBit(pte)).isTrue();
    assertThat(g.cBit(pte)).isFalse();
    assertThat(k.remove(0, ea)).isTrue();
    assertThat(flushes).containsExactly(new HostFlush.PteFlush(ea, Hash32Mmu.TLBIE_MASK));
    assertThat(g.findPte(0, ea)).isNegative();
    assertThat(k.remove(0, ea)).isFalse();
    assertThat(flushes).hasSize(1);
  }

  @Test
  void kernelEnter_badArguments_changeNothing() {
    GuestSetup s = ActorFixtures.setup32();
    GuestMmuPort g = s.newPort();
    GuestKernel k = s.newKernel(g, events::add, flushes::add);
    long writes = g.htab().writes();
    assertThatThrownBy(() -> k.enter(0, BASE, 0x100000, 2))
        .hasMessage("gfn: 0x100000 is out of range; allowed 0x0 to 0xfffff");
    assertThatThrownBy(() -> k.enter(0, BASE, 1, -1))
        .hasMessage("pp: -1 is out of range; allowed 0 to 3");
    assertThatThrownBy(() -> k.enter(3, BASE, 1, 2)).hasMessageStartingWith("vcpu: 3");
    assertThatThrownBy(() -> k.remove(0, -1L)).hasMessageStartingWith("ea: 0xffffffffffffffff");
    assertThat(g.htab().writes()).isEqualTo(writes);
  }

  @Test
  void clientEnteredEntries_areEvictable_likeDemandMappedOnes() {
    // Sixteen client H_ENTERs fill a PTEG pair; the kernel's next demand map there must evict one
    // of them (H_REMOVE + tlbie) rather than fail for lack of room.
    GuestSetup s = ActorFixtures.setup32();
    GuestMmuPort g = s.newPort();
    GuestKernel k = s.newKernel(g, events::add, flushes::add);
    List<Long> eas = ActorFixtures.collidingEas(s, 17);
    for (int i = 0; i < 16; i++) {
      assertThat(k.enter(0, eas.get(i), 0x100 + i, 2)).isNotNegative();
    }
    assertThat(k.enter(0, eas.get(16), 0x200, 2)).isEqualTo(-1);
    assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, eas.get(16)))
        .isEqualTo(GuestKernel.Outcome.RETRY);
    assertThat(events).containsExactly(GuestKernel.Event.EVICTION, GuestKernel.Event.DEMAND_MAP);
    assertThat(flushes).hasSize(1);
    long evicted = ((HostFlush.PteFlush) flushes.get(0)).ea();
    assertThat(eas.subList(0, 16)).contains(evicted);
    assertThat(g.findPte(0, evicted)).isNegative();
    assertThat(g.findPte(0, eas.get(16))).isNotNegative();
  }

  @Test
  void guestSetup_checksItsFields() {
    MmuOptions o = MmuOptions.defaults(Policy.FIXED);
    assertThatThrownBy(
            () ->
                new GuestSetup(
                    GuestMmuKind.BOOK3S_32, 0, 1 << 20, o, 0, 0, 1, 2, ProtectionPolicy.FAIL))
        .hasMessage("vcpus: 0 is out of range; allowed 1 to 1024");
    assertThatThrownBy(
            () ->
                new GuestSetup(
                    GuestMmuKind.BOOK3S_32, 0, 1 << 20, o, 1, 0, 1, 4, ProtectionPolicy.FAIL))
        .hasMessage("guestPp: 4 is out of range; allowed 0 to 3");
    assertThatThrownBy(
            () ->
                new GuestSetup(
                        GuestMmuKind.BOOK3S_64, 0x3, 1 << 20, o, 1, 0, 1, 2, ProtectionPolicy.FAIL)
                    .newPort())
        .hasMessageStartingWith("sdr1");
  }
}
