package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.guestmmu.ActorFixtures.BASE;
import static org.mmumesh.guestmmu.ActorFixtures.collidingEas;
import static org.mmumesh.guestmmu.ActorFixtures.setup32;
import static org.mmumesh.guestmmu.ActorFixtures.setup64;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.GuestKernel;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.Hash32Mmu;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.ExceptionHandled;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.ExceptionReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HandleException;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.KernelEvents;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.TlbieDone;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Translated;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Xlate;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.XlateReply;

/** Request/reply flows of the GuestMmu actor (ActorTestKit + TestProbe, manual time). */
class GuestMmuTest {
  private static final ActorTestKit KIT =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime TIME = ManualTime.get(KIT.system());
  private static final Duration QUIET = Duration.ofMillis(200);

  private final TestProbe<HostTlbie> host = KIT.createTestProbe(HostTlbie.class);
  private final TestProbe<XlateReply> xlates = KIT.createTestProbe(XlateReply.class);
  private final TestProbe<ExceptionReply> handled = KIT.createTestProbe(ExceptionReply.class);
  private final TestProbe<KernelEvents> events = KIT.createTestProbe(KernelEvents.class);

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private ActorRef<GuestMmu.Command> spawn(GuestSetup setup) {
    return KIT.spawn(GuestMmu.create(setup, host.getRef()));
  }

  private HandleException noHpte(long id, long ea) {
    return new HandleException(
        id, 0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea, handled.getRef());
  }

  private KernelEvents kernelEvents(ActorRef<GuestMmu.Command> mmu) {
    mmu.tell(new GuestMmu.GetKernelEvents(events.getRef()));
    return events.receiveMessage();
  }

  /** Demand-maps the first 16 colliding pages (no flush needed) and returns the 17th's ea. */
  private long fillPtegPair(ActorRef<GuestMmu.Command> mmu, List<Long> eas) {
    for (int i = 0; i < 16; i++) {
      mmu.tell(noHpte(100 + i, eas.get(i)));
      handled.expectMessage(new ExceptionHandled(100 + i, true, null, false));
    }
    return eas.get(16);
  }

  @Test
  void dumpHtab_listsExactlyTheNonZeroWords_ofAnEnteredHpte() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    TestProbe<GuestMmu.HtabReply> dump = KIT.createTestProbe(GuestMmu.HtabReply.class);
    mmu.tell(new GuestMmu.DumpHtab(1, dump.getRef()));
    GuestMmu.HtabDumped empty = dump.expectMessageClass(GuestMmu.HtabDumped.class);
    assertThat(empty.addrs()).isEmpty();
    TestProbe<GuestMmu.EnterReply> entered = KIT.createTestProbe(GuestMmu.EnterReply.class);
    mmu.tell(new GuestMmu.EnterHpte(2, 0, ActorFixtures.BASE, 0x77, 2, entered.getRef()));
    long pteAddr = entered.expectMessageClass(GuestMmu.HpteEntered.class).pteAddr();
    mmu.tell(new GuestMmu.DumpHtab(3, dump.getRef()));
    GuestMmu.HtabDumped d = dump.expectMessageClass(GuestMmu.HtabDumped.class);
    GuestMmuPort port = setup.newPort();
    port.enter(0, ActorFixtures.BASE, 0x77, 2);
    for (int k = 0; k < d.addrs().length; k++) {
      assertThat(d.words()[k]).isNotZero().isEqualTo(port.htab().word(d.addrs()[k]));
    }
    assertThat(d.addrs()).contains(pteAddr);
    assertThat(d.addrs().length).isBetween(1, 2);
  }

  @Test
  void xlate_relocated_matchesTheCore_andCarriesTheGvsid_beforeAndAfterDemandMap() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    GuestMmuPort ref = setup.newPort();
    GuestKernel refKernel = setup.newKernel(ref, e -> {}, f -> {});
    long ea = BASE + 5 * 4096 + 8;
    long gvsid = ref.esidToVsid(0, ea >>> 28);

    mmu.tell(new Xlate(1, 0, ea, Access.LOAD, true, xlates.getRef()));
    Translated before = (Translated) xlates.receiveMessage();
    assertThat(before.result().status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(before).isEqualTo(new Translated(1, ref.xlate(0, ea, Access.LOAD, true), gvsid));

    mmu.tell(noHpte(2, ea));
    handled.expectMessage(new ExceptionHandled(2, true, null, false));
    refKernel.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea);

    mmu.tell(new Xlate(3, 0, ea, Access.STORE, true, xlates.getRef()));
    Translated after = (Translated) xlates.receiveMessage();
    assertThat(after.result().ok()).isTrue();
    assertThat(after.result().pte().gfn()).isEqualTo(5);
    assertThat(after.result().setC()).isTrue();
    assertThat(after).isEqualTo(new Translated(3, ref.xlate(0, ea, Access.STORE, true), gvsid));
    host.expectNoMessage(QUIET);
  }

  @Test
  void xlate_notRelocated_hasNoResult_butStillTheGvsid() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    long ea = BASE + 0x3000;
    mmu.tell(new Xlate(7, 1, ea, Access.IFETCH, false, xlates.getRef()));
    Translated t = (Translated) xlates.receiveMessage();
    assertThat(t.result()).isNull();
    assertThat(t.gvsid()).isEqualTo(setup.newPort().esidToVsid(1, ea >>> 28));
    assertThat(t.gvsid()).isNotEqualTo(VsidTags.NO_VSID);
  }

  @Test
  void xlate64_segmentMiss_isEinvalWithNoVsid_untilTheKernelLoadsAnSlbEntry() {
    GuestSetup setup = setup64();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    long ea = BASE + 0x2000;
    mmu.tell(new Xlate(1, 0, ea, Access.LOAD, true, xlates.getRef()));
    Translated miss = (Translated) xlates.receiveMessage();
    assertThat(miss.result().status()).isEqualTo(XlateStatus.EINVAL);
    assertThat(miss.gvsid()).isEqualTo(VsidTags.NO_VSID);

    mmu.tell(new HandleException(2, 0, FaultBits.VEC_DSEG, 0, 0, ea, handled.getRef()));
    handled.expectMessage(new ExceptionHandled(2, true, null, true));

    GuestMmuPort ref = setup.newPort();
    ref.loadSegment(0, ea);
    mmu.tell(new Xlate(3, 0, ea, Access.LOAD, true, xlates.getRef()));
    Translated hit = (Translated) xlates.receiveMessage();
    assertThat(hit.result().status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(hit.gvsid()).isEqualTo(ref.esidToVsid(0, ea >>> 28)).isNotEqualTo(VsidTags.NO_VSID);
    // The segment belongs to vCPU 0 only.
    mmu.tell(new Xlate(4, 1, ea, Access.LOAD, true, xlates.getRef()));
    assertThat(((Translated) xlates.receiveMessage()).gvsid()).isEqualTo(VsidTags.NO_VSID);
  }

  @Test
  void handleException_withEviction_repliesOnlyAfterTheHostConfirmsTheTlbie() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    List<Long> eas = collidingEas(setup, 17);
    long ea = fillPtegPair(mmu, eas);
    host.expectNoMessage(QUIET);

    mmu.tell(noHpte(200, ea));
    HostTlbie tlbie = host.receiveMessage();
    assertThat(tlbie.flush()).isInstanceOf(HostFlush.PteFlush.class);
    HostFlush.PteFlush f = (HostFlush.PteFlush) tlbie.flush();
    assertThat(f.mask()).isEqualTo(Hash32Mmu.TLBIE_MASK);
    assertThat(eas.subList(0, 16)).contains(f.ea());
    handled.expectNoMessage(QUIET);

    tlbie.replyTo().tell(new TlbieDone(tlbie.requestId()));
    handled.expectMessage(new ExceptionHandled(200, true, null, false));
    KernelEvents k = kernelEvents(mmu);
    assertThat(k.demandMaps()).isEqualTo(17);
    assertThat(k.evictions()).isEqualTo(1);
  }

  @Test
  void handleException_hostSilent_timesOutWithAFailure_andARetryResendsTheFlushOnly() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu =
        KIT.spawn(GuestMmu.create(setup, host.getRef(), Duration.ofSeconds(2)));
    long ea = fillPtegPair(mmu, collidingEas(setup, 17));

    mmu.tell(noHpte(300, ea));
    HostTlbie first = host.receiveMessage();
    handled.expectNoMessage(QUIET);
    TIME.timePasses(Duration.ofSeconds(2));
    ExceptionHandled failed = (ExceptionHandled) handled.receiveMessage();
    assertThat(failed.requestId()).isEqualTo(300);
    assertThat(failed.retry()).isFalse();
    assertThat(failed.failure()).contains("host tlbie").contains("1 of 1").contains("2000 ms");

    // A late answer to the timed-out tlbie is ignored.
    first.replyTo().tell(new TlbieDone(first.requestId()));
    handled.expectNoMessage(QUIET);

    mmu.tell(noHpte(300, ea));
    HostTlbie again = host.receiveMessage();
    assertThat(again.flush()).isEqualTo(first.flush());
    assertThat(again.requestId()).isNotEqualTo(first.requestId());
    handled.expectNoMessage(QUIET);
    again.replyTo().tell(new TlbieDone(again.requestId()));
    handled.expectMessage(new ExceptionHandled(300, true, null, false));
    KernelEvents k = kernelEvents(mmu);
    assertThat(k.demandMaps()).isEqualTo(17);
    assertThat(k.evictions()).isEqualTo(1);
  }

  @Test
  void handleException_owedFlushGoesFirstWithTheNextFlushingRequest() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu =
        KIT.spawn(GuestMmu.create(setup, host.getRef(), Duration.ofSeconds(2)));
    List<Long> eas = collidingEas(setup, 18);
    fillPtegPair(mmu, eas);
    mmu.tell(noHpte(400, eas.get(16)));
    HostTlbie owed = host.receiveMessage();
    TIME.timePasses(Duration.ofSeconds(2));
    assertThat(((ExceptionHandled) handled.receiveMessage()).retry()).isFalse();

    mmu.tell(noHpte(401, eas.get(17)));
    HostTlbie resent = host.receiveMessage();
    HostTlbie fresh = host.receiveMessage();
    assertThat(resent.flush()).isEqualTo(owed.flush());
    assertThat(fresh.flush()).isNotEqualTo(owed.flush());
    resent.replyTo().tell(new TlbieDone(resent.requestId()));
    handled.expectNoMessage(QUIET);
    fresh.replyTo().tell(new TlbieDone(fresh.requestId()));
    handled.expectMessage(new ExceptionHandled(401, true, null, false));
  }

  @Test
  void handleException_sameRequestIdTwice_mapsOnce_andRepliesTheSame() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    long ea = BASE + 0x9000;
    mmu.tell(noHpte(9, ea));
    ExceptionReply first = handled.receiveMessage();
    mmu.tell(noHpte(9, ea));
    ExceptionReply second = handled.receiveMessage();
    assertThat(second).isEqualTo(first).isEqualTo(new ExceptionHandled(9, true, null, false));
    // Re-applied, the second would have found the HPTE: a misreported not-found, a PP upgrade
    // and a tlbie.
    assertThat(kernelEvents(mmu)).isEqualTo(new KernelEvents(1, 0, 0, 0, 0));
    host.expectNoMessage(QUIET);

    // A new id for the same fault is a new request.
    mmu.tell(noHpte(10, ea));
    HostTlbie upgrade = host.receiveMessage();
    upgrade.replyTo().tell(new TlbieDone(upgrade.requestId()));
    handled.expectMessage(new ExceptionHandled(10, true, null, false));
    assertThat(kernelEvents(mmu)).isEqualTo(new KernelEvents(1, 0, 0, 1, 1));
  }

  @Test
  void handleException_retriedWhileItsTlbieIsInFlight_sendsOneTlbie_andAnswersBoth() {
    GuestSetup setup = setup32();
    ActorRef<GuestMmu.Command> mmu = spawn(setup);
    TestProbe<ExceptionReply> retryProbe = KIT.createTestProbe(ExceptionReply.class);
    long ea = fillPtegPair(mmu, collidingEas(setup, 17));
    mmu.tell(noHpte(500, ea));
    HostTlbie tlbie = host.receiveMessage();
    mmu.tell(
        new HandleException(
            500, 0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea, retryProbe.getRef()));
    host.expectNoMessage(QUIET);
    retryProbe.expectNoMessage(Duration.ZERO);
    tlbie.replyTo().tell(new TlbieDone(tlbie.requestId()));
    handled.expectMessage(new ExceptionHandled(500, true, null, false));
    retryProbe.expectMessage(new ExceptionHandled(500, true, null, false));
    assertThat(kernelEvents(mmu).demandMaps()).isEqualTo(17);
  }

  @Test
  void handleException_kernelFailure_isReportedWithTheReason() {
    ActorRef<GuestMmu.Command> mmu = spawn(setup32());
    long outside = BASE - 0x1000;
    mmu.tell(noHpte(11, outside));
    ExceptionHandled h = (ExceptionHandled) handled.receiveMessage();
    assertThat(h.retry()).isFalse();
    assertThat(h.failure()).contains("outside the window").contains("0xffff000");
  }
}
