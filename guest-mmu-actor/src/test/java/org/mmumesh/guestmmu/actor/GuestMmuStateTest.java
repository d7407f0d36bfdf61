package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.ClearRc;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterHpte;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HpteEntered;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RcOf;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RcReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.ReadRc;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.EsidToVsid;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Rejected;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.SetVcpuState;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.StateReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.TlbieDone;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VcpuStateSet;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VsidOf;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VsidReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Xlate;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.XlateReply;

/** Per-vCPU state changes (mtsrin, slbmte, slbia, BATs, MSR) and ClearRc through the actor. */
class GuestMmuStateTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());
  private static final Duration QUIET = Duration.ofMillis(200);

  private final TestProbe<HostTlbie> host = KIT.createTestProbe(HostTlbie.class);
  private final TestProbe<StateReply> states = KIT.createTestProbe(StateReply.class);
  private final TestProbe<VsidReply> vsids = KIT.createTestProbe(VsidReply.class);
  private final TestProbe<RcReply> rcs = KIT.createTestProbe(RcReply.class);

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private ActorRef<GuestMmu.Command> spawn(GuestSetup setup) {
    return KIT.spawn(GuestMmu.create(setup, host.getRef()));
  }

  private long vsidOf(ActorRef<GuestMmu.Command> mmu, int vcpu, long esid) {
    mmu.tell(new EsidToVsid(1, vcpu, esid, vsids.getRef()));
    return vsids.expectMessageClass(VsidOf.class).gvsid();
  }

  @Test
  void mtsrinAndMsr_on32Bit_changeTheSegmentAndMode_ofThatVcpuOnly() {
    ActorRef<GuestMmu.Command> mmu = spawn(ActorFixtures.setup32());
    long before1 = vsidOf(mmu, 1, 3);
    mmu.tell(
        new SetVcpuState(
            5,
            0,
            List.of(
                new VcpuStateChange.Mtsrin(3, 0x00000ABCL),
                new VcpuStateChange.SetMsr(true, true, true)),
            states.getRef()));
    assertThat(states.expectMessageClass(VcpuStateSet.class).mode()).isEqualTo(7);
    assertThat(vsidOf(mmu, 0, 3) & 0x0FFFFFFFL).isEqualTo(0xABCL);
    assertThat(vsidOf(mmu, 1, 3)).isEqualTo(before1);
  }

  @Test
  void slbOn32Bit_isRejectedNamingTheChange_andNothingChanges() {
    ActorRef<GuestMmu.Command> mmu = spawn(ActorFixtures.setup32());
    long before = vsidOf(mmu, 0, 3);
    mmu.tell(
        new SetVcpuState(
            6,
            0,
            List.of(
                new VcpuStateChange.Mtsrin(3, 0x00000ABCL),
                new VcpuStateChange.Slbmte(0x1000L, 0x08000000L)),
            states.getRef()));
    assertThat(states.expectMessageClass(Rejected.class).reason())
        .startsWith("changes[1] slbmte: the guest is 32-bit");
    assertThat(vsidOf(mmu, 0, 3)).isEqualTo(before);
  }

  @Test
  void srIndexOutOfRange_andEmptyChanges_areRejected() {
    ActorRef<GuestMmu.Command> mmu = spawn(ActorFixtures.setup32());
    mmu.tell(new SetVcpuState(7, 0, List.of(new VcpuStateChange.Mtsrin(16, 0)), states.getRef()));
    assertThat(states.expectMessageClass(Rejected.class).reason())
        .contains("segment register index");
    mmu.tell(new SetVcpuState(8, 0, List.of(), states.getRef()));
    assertThat(states.expectMessageClass(Rejected.class).reason()).startsWith("changes: empty");
    mmu.tell(new SetVcpuState(9, 5, List.of(new VcpuStateChange.Slbia()), states.getRef()));
    assertThat(states.expectMessageClass(Rejected.class).reason()).startsWith("vcpu");
  }

  @Test
  void slbmteThenSlbia_on64Bit_loadsAndDropsTheSegment() {
    ActorRef<GuestMmu.Command> mmu = spawn(ActorFixtures.setup64());
    long esid = 5;
    assertThat(vsidOf(mmu, 0, esid)).isEqualTo(VsidTags.NO_VSID);
    long rb = (esid << 28) | 0x08000000L | 3; // ESID, V, entry 3
    long rs = 0x777L << 12; // VSID 0x777, Kp=Ks=0
    mmu.tell(new SetVcpuState(10, 0, List.of(new VcpuStateChange.Slbmte(rs, rb)), states.getRef()));
    states.expectMessageClass(VcpuStateSet.class);
    assertThat(vsidOf(mmu, 0, esid)).isNotEqualTo(VsidTags.NO_VSID);
    mmu.tell(new SetVcpuState(11, 0, List.of(new VcpuStateChange.Slbia()), states.getRef()));
    states.expectMessageClass(VcpuStateSet.class);
    assertThat(vsidOf(mmu, 0, esid)).isEqualTo(VsidTags.NO_VSID);
    mmu.tell(new SetVcpuState(12, 0, List.of(new VcpuStateChange.Mtsrin(0, 0)), states.getRef()));
    assertThat(states.expectMessageClass(Rejected.class).reason())
        .startsWith("changes[0] mtsrin: the guest is 64-bit");
  }

  @Test
  void clearRc_clearsC_afterTheHostFlushed_andARetryDoesNotFlushAgain() {
    ActorRef<GuestMmu.Command> mmu = spawn(ActorFixtures.setup32());
    long ea = ActorFixtures.BASE;
    TestProbe<EnterReply> entered = KIT.createTestProbe(EnterReply.class);
    mmu.tell(new EnterHpte(1, 0, ea, 0, 2, entered.getRef()));
    assertThat(entered.expectMessageClass(HpteEntered.class).pteAddr()).isNotNegative();
    TestProbe<XlateReply> x = KIT.createTestProbe(XlateReply.class);
    mmu.tell(new Xlate(2, 0, ea, Access.STORE, true, x.getRef()));
    x.receiveMessage();
    mmu.tell(new ReadRc(3, 0, ea, rcs.getRef()));
    rcs.expectMessage(new RcOf(3, true, true));

    mmu.tell(new ClearRc(4, 0, ea, false, true, rcs.getRef()));
    HostTlbie tlbie = host.receiveMessage();
    rcs.expectNoMessage(QUIET); // not before the host confirmed
    tlbie.replyTo().tell(new TlbieDone(tlbie.requestId()));
    rcs.expectMessage(new RcOf(4, true, true));
    mmu.tell(new ClearRc(4, 0, ea, false, true, rcs.getRef()));
    rcs.expectMessage(new RcOf(4, true, true));
    host.expectNoMessage(QUIET);
    mmu.tell(new ReadRc(5, 0, ea, rcs.getRef()));
    rcs.expectMessage(new RcOf(5, true, false));
  }

  @Test
  void clearRc_withoutAnHpte_isRejected_andFlushesNothing() {
    ActorRef<GuestMmu.Command> mmu = spawn(ActorFixtures.setup32());
    mmu.tell(new ClearRc(1, 0, ActorFixtures.BASE + 0x5000, true, true, rcs.getRef()));
    assertThat(rcs.expectMessageClass(Rejected.class).reason()).startsWith("ea: no HPTE");
    host.expectNoMessage(QUIET);
  }
}
