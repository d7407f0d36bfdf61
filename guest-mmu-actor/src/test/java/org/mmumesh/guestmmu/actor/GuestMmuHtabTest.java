package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.guestmmu.ActorFixtures.BASE;
import static org.mmumesh.guestmmu.ActorFixtures.setup32;
import static org.mmumesh.guestmmu.ActorFixtures.setup64;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.Hash32Mmu;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterHpte;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HpteEntered;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HpteRemoved;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RcOf;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RcReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.ReadRc;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RemoveHpte;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RemoveReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Rejected;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.TlbieDone;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Translated;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Xlate;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.XlateReply;

/** HTAB management (H_ENTER, H_REMOVE, R/C) and bad-input rejections through the actor. */
class GuestMmuHtabTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());
  private static final Duration QUIET = Duration.ofMillis(200);

  private final TestProbe<HostTlbie> host = KIT.createTestProbe(HostTlbie.class);
  private final TestProbe<XlateReply> xlates = KIT.createTestProbe(XlateReply.class);
  private final TestProbe<EnterReply> entered = KIT.createTestProbe(EnterReply.class);
  private final TestProbe<RemoveReply> removed = KIT.createTestProbe(RemoveReply.class);
  private final TestProbe<RcReply> rc = KIT.createTestProbe(RcReply.class);

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private ActorRef<GuestMmu.Command> spawn(GuestSetup setup) {
    return KIT.spawn(GuestMmu.create(setup, host.getRef()));
  }

  private XlateStatus xlate(ActorRef<GuestMmu.Command> mmu, long id, long ea, Access a) {
    mmu.tell(new Xlate(id, 0, ea, a, true, xlates.getRef()));
    return ((Translated) xlates.receiveMessage()).result().status();
  }

  @Test
  void enterHpte_translates_readRcFollowsLoadsAndStores_removeTlbiesThroughTheHost() {
    ActorRef<GuestMmu.Command> mmu = spawn(setup32());
    long ea = BASE + 0x42000;
    mmu.tell(new EnterHpte(1, 0, ea, 0x777, 2, entered.getRef()));
    HpteEntered e = (HpteEntered) entered.receiveMessage();
    assertThat(e.pteAddr()).isGreaterThanOrEqualTo(0);
    // Retried: the same reply, no second HPTE (the second remove below finds nothing).
    mmu.tell(new EnterHpte(1, 0, ea, 0x777, 2, entered.getRef()));
    entered.expectMessage(e);

    mmu.tell(new ReadRc(2, 0, ea, rc.getRef()));
    rc.expectMessage(new RcOf(2, false, false));
    assertThat(xlate(mmu, 3, ea, Access.LOAD)).isEqualTo(XlateStatus.OK);
    mmu.tell(new ReadRc(4, 0, ea, rc.getRef()));
    rc.expectMessage(new RcOf(4, true, false));
    assertThat(xlate(mmu, 5, ea, Access.STORE)).isEqualTo(XlateStatus.OK);
    mmu.tell(new ReadRc(6, 0, ea, rc.getRef()));
    rc.expectMessage(new RcOf(6, true, true));

    mmu.tell(new RemoveHpte(7, 0, ea, removed.getRef()));
    HostTlbie t = host.receiveMessage();
    assertThat(t.flush()).isEqualTo(new HostFlush.PteFlush(ea, Hash32Mmu.TLBIE_MASK));
    removed.expectNoMessage(QUIET);
    t.replyTo().tell(new TlbieDone(t.requestId()));
    removed.expectMessage(new HpteRemoved(7, true));
    assertThat(xlate(mmu, 8, ea, Access.LOAD)).isEqualTo(XlateStatus.ENOENT);

    mmu.tell(new RemoveHpte(9, 0, ea, removed.getRef()));
    removed.expectMessage(new HpteRemoved(9, false));
    host.expectNoMessage(QUIET);
  }

  @Test
  void enterHpte64_translatesToTheGfn_onceTheSegmentIsLoaded() {
    ActorRef<GuestMmu.Command> mmu = spawn(setup64());
    long ea = BASE + 0x5000;
    mmu.tell(new EnterHpte(1, 1, ea, 0x1234, 2, entered.getRef()));
    Rejected noSlb = (Rejected) entered.receiveMessage();
    assertThat(noSlb.requestId()).isEqualTo(1);
    assertThat(noSlb.reason()).startsWith("ea: no valid SLB entry translates 0x10005000");

    TestProbe<GuestMmu.ExceptionReply> handled = KIT.createTestProbe(GuestMmu.ExceptionReply.class);
    mmu.tell(
        new GuestMmu.HandleException(
            2, 1, org.mmumesh.common.FaultBits.VEC_DSEG, 0, 0, ea, handled.getRef()));
    handled.expectMessage(new GuestMmu.ExceptionHandled(2, true, null, true));
    mmu.tell(new EnterHpte(3, 1, ea, 0x1234, 2, entered.getRef()));
    assertThat(((HpteEntered) entered.receiveMessage()).pteAddr()).isGreaterThanOrEqualTo(0);
    mmu.tell(new Xlate(4, 1, ea + 8, Access.LOAD, true, xlates.getRef()));
    Translated t = (Translated) xlates.receiveMessage();
    assertThat(t.result().ok()).isTrue();
    assertThat(t.result().pte().raddr()).isEqualTo((0x1234L << 12) | 8);
  }

  @Test
  void badInput_isRejectedNamingTheFieldAndRange_andTheActorCarriesOn() {
    ActorRef<GuestMmu.Command> mmu = spawn(setup32());
    mmu.tell(new Xlate(1, 2, BASE, Access.LOAD, true, xlates.getRef()));
    xlates.expectMessage(new Rejected(1, "vcpu: 2 is out of range; allowed 0 to 1"));
    mmu.tell(new Xlate(2, 0, 0x100000000L, Access.LOAD, true, xlates.getRef()));
    xlates.expectMessage(
        new Rejected(2, "ea: 0x100000000 is out of range; allowed 0x0 to 0xffffffff"));
    mmu.tell(new Xlate(3, 0, BASE, null, true, xlates.getRef()));
    xlates.expectMessage(new Rejected(3, "access: null; allowed LOAD, STORE or IFETCH"));

    mmu.tell(new EnterHpte(4, 0, BASE, 0, 4, entered.getRef()));
    entered.expectMessage(new Rejected(4, "pp: 4 is out of range; allowed 0 to 3"));
    mmu.tell(new EnterHpte(5, 0, BASE, 0x100000, 2, entered.getRef()));
    entered.expectMessage(new Rejected(5, "gfn: 0x100000 is out of range; allowed 0x0 to 0xfffff"));

    TestProbe<GuestMmu.VsidReply> vsids = KIT.createTestProbe(GuestMmu.VsidReply.class);
    mmu.tell(new GuestMmu.EsidToVsid(6, 0, 16, vsids.getRef()));
    vsids.expectMessage(new Rejected(6, "esid: 0x10 is out of range; allowed 0x0 to 0xf"));

    TestProbe<GuestMmu.ModeReply> modes = KIT.createTestProbe(GuestMmu.ModeReply.class);
    mmu.tell(new GuestMmu.GetMode(-1, modes.getRef()));
    modes.expectMessage(new Rejected(-1, "vcpu: -1 is out of range; allowed 0 to 1"));

    mmu.tell(new ReadRc(7, 0, BASE, rc.getRef()));
    assertThat(((Rejected) rc.receiveMessage()).reason()).startsWith("ea: no HPTE translates");

    TestProbe<GuestMmu.ExceptionReply> handled = KIT.createTestProbe(GuestMmu.ExceptionReply.class);
    mmu.tell(new GuestMmu.HandleException(8, 5, 0x300, 0, 0, BASE, handled.getRef()));
    handled.expectMessage(new Rejected(8, "vcpu: 5 is out of range; allowed 0 to 1"));

    // Still alive and unchanged: mode PR|IR|DR, nothing mapped.
    mmu.tell(new GuestMmu.GetMode(1, modes.getRef()));
    modes.expectMessage(new GuestMmu.ModeOf(7));
    assertThat(xlate(mmu, 9, BASE, Access.LOAD)).isEqualTo(XlateStatus.ENOENT);
    host.expectNoMessage(QUIET);
  }

  @Test
  void rejected_isNotRemembered_soAFixedRetryWithTheSameIdIsApplied() {
    ActorRef<GuestMmu.Command> mmu = spawn(setup32());
    mmu.tell(new EnterHpte(1, 0, BASE, 0, 9, entered.getRef()));
    assertThat(entered.receiveMessage()).isInstanceOf(Rejected.class);
    mmu.tell(new EnterHpte(1, 0, BASE, 0, 2, entered.getRef()));
    assertThat(((HpteEntered) entered.receiveMessage()).pteAddr()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void esidToVsid_andMode_matchTheCore() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    GuestMmuPort ref = setup.newPort();
    TestProbe<GuestMmu.VsidReply> vsids = KIT.createTestProbe(GuestMmu.VsidReply.class);
    for (long esid = 0; esid < 16; esid++) {
      mmu.tell(new GuestMmu.EsidToVsid(esid, 1, esid, vsids.getRef()));
      vsids.expectMessage(new GuestMmu.VsidOf(esid, ref.esidToVsid(1, esid)));
    }
    TestProbe<GuestMmu.ModeReply> modes = KIT.createTestProbe(GuestMmu.ModeReply.class);
    mmu.tell(new GuestMmu.GetMode(0, modes.getRef()));
    modes.expectMessage(new GuestMmu.ModeOf(ref.mode(0)));
  }
}
