package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID1;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID2;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.pte;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.HostFlush;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.CheckInvariants;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.FlushReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.FlushVcpu;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Flushed;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.GetStats;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.GuestTlbie;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.InvariantsReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.LookedUp;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.LookupReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.MapPage;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.MapReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Mapped;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierAcked;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierInvalidate;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Rejected;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.StatsReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.SubscribeTlb;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.TlbShootdown;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.TlbShootdownAck;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.UnmapPage;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.UnmapReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Unmapped;

/**
 * Request/reply flows of {@link HostMmu} (ActorTestKit + TestProbe). The test configuration has
 * {@code serialize-messages = on}, so every message below also goes through Jackson CBOR.
 */
class HostMmuTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private static final Duration QUIET = Duration.ofMillis(150);
  private final AtomicLong ids = new AtomicLong(1);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private ActorRef<Command> spawn(int vcpus) {
    return kit.spawn(HostMmu.create(HostMmuConfig.host64(vcpus)));
  }

  private LookedUp lookup(ActorRef<Command> mmu, int vcpu, long gvsid, long ea) {
    TestProbe<LookupReply> p = kit.createTestProbe();
    mmu.tell(new HostMmu.Lookup(ids.getAndIncrement(), vcpu, gvsid, ea, p.getRef()));
    return p.expectMessageClass(LookedUp.class);
  }

  private Mapped map(
      ActorRef<Command> mmu, int vcpu, GuestPte pte, long gvsid, int pfn, boolean w, long seq) {
    TestProbe<MapReply> p = kit.createTestProbe();
    mmu.tell(new MapPage(ids.getAndIncrement(), vcpu, pte, gvsid, pfn, w, seq, p.getRef()));
    return p.expectMessageClass(Mapped.class);
  }

  private Unmapped unmap(ActorRef<Command> mmu, int vcpu, GuestPte pte) {
    TestProbe<UnmapReply> p = kit.createTestProbe();
    mmu.tell(new UnmapPage(ids.getAndIncrement(), vcpu, pte, false, p.getRef()));
    return p.expectMessageClass(Unmapped.class);
  }

  private NotifierAcked notify(
      ActorRef<Command> mmu, long gfnStart, long gfnEnd, long seq, boolean full) {
    TestProbe<NotifierReply> p = kit.createTestProbe();
    mmu.tell(new NotifierInvalidate(gfnStart, gfnEnd, seq, full, p.getRef()));
    return p.expectMessageClass(NotifierAcked.class);
  }

  private InvariantsReply invariants(ActorRef<Command> mmu) {
    TestProbe<InvariantsReply> p = kit.createTestProbe();
    mmu.tell(new CheckInvariants(p.getRef()));
    return p.receiveMessage();
  }

  private StatsReply stats(ActorRef<Command> mmu) {
    TestProbe<StatsReply> p = kit.createTestProbe();
    mmu.tell(new GetStats(p.getRef()));
    return p.receiveMessage();
  }

  /** Subscribes a probe for {@code vcpu} and consumes the welcome shootdown. */
  private TestProbe<TlbShootdown> subscribe(ActorRef<Command> mmu, int vcpu) {
    TestProbe<TlbShootdown> p = kit.createTestProbe();
    mmu.tell(new SubscribeTlb(vcpu, p.getRef()));
    p.expectMessageClass(TlbShootdown.class);
    return p;
  }

  // ---- fast path and fault flows --------------------------------------------------------------

  @Test
  void lookupMiss_thenMapReadOnly_thenLookupHitsReadOnly() {
    ActorRef<Command> mmu = spawn(1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);

    LookedUp miss = lookup(mmu, 0, GVSID1, 0x10005123L);
    assertThat(miss.slot()).isEqualTo(-1);
    assertThat(miss.protection()).isEqualTo(Lookup.MISS);

    Mapped m = map(mmu, 0, g, GVSID1, 0x777, false, -1);
    assertThat(m.installed()).isTrue();
    assertThat(m.readOnly()).isTrue();
    assertThat(m.markDirty()).isFalse();

    LookedUp hit = lookup(mmu, 0, GVSID1, 0x10005123L);
    assertThat(hit.slot()).isGreaterThanOrEqualTo(0);
    assertThat(hit.protection()).isEqualTo(Lookup.HIT_RO);
    assertThat(hit.pfn()).isEqualTo(0x777);
    assertThat(hit.epoch()).isEqualTo(m.epoch());
  }

  @Test
  void protfault_unmapThenMapWritable_leavesOneWritableEntry() {
    ActorRef<Command> mmu = spawn(1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, false, -1); // KSM page: read-only
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).protection()).isEqualTo(Lookup.HIT_RO);

    Unmapped u = unmap(mmu, 0, g); // the store's PROTFAULT: pte_vflush of the stale RO entry
    assertThat(u.removed()).isEqualTo(1);
    Mapped rw = map(mmu, 0, g, GVSID1, 0x888, true, -1); // after COW: writable
    assertThat(rw.readOnly()).isFalse();
    assertThat(rw.markDirty()).isTrue();

    LookedUp hit = lookup(mmu, 0, GVSID1, 0x10005000L);
    assertThat(hit.protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(hit.pfn()).isEqualTo(0x888);
    InvariantsReply inv = invariants(mmu);
    assertThat(inv.violations()).isEmpty();
    assertThat(inv.liveEntries()).isEqualTo(1);
    assertThat(inv.htabValid()).isEqualTo(1);
  }

  @Test
  void unmap_bumpsEpoch_onlyWhenItRemovedSomething() {
    ActorRef<Command> mmu = spawn(1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    Mapped m = map(mmu, 0, g, GVSID1, 0x777, true, -1);
    Unmapped first = unmap(mmu, 0, g);
    Unmapped second = unmap(mmu, 0, g);
    assertThat(first.removed()).isEqualTo(1);
    assertThat(first.epoch()).isEqualTo(m.epoch() + 1);
    assertThat(second.removed()).isZero();
    assertThat(second.epoch()).isEqualTo(first.epoch());
  }

  // ---- the mmu_notifier_retry guard -----------------------------------------------------------

  @Test
  void mapPage_isRefused_whenANotifierInvalidationArrivedSinceGuardSeq() {
    ActorRef<Command> mmu = spawn(1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    notify(mmu, 0xAB, 0xAC, 5, true);

    Mapped refused = map(mmu, 0, g, GVSID1, 0x777, true, 4);
    assertThat(refused.installed()).isFalse();
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).slot()).isEqualTo(-1);

    Mapped fresh = map(mmu, 0, g, GVSID1, 0x777, true, 5);
    assertThat(fresh.installed()).isTrue();
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(stats(mmu).counters()).containsEntry("MAPS_REFUSED", 1L);
  }

  @Test
  void mapPage_withoutGuard_installsEvenAfterNotifier() {
    ActorRef<Command> mmu = spawn(1);
    notify(mmu, 0, 1, 9, true);
    Mapped m = map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);
    assertThat(m.installed()).isTrue();
  }

  // ---- notifier modes (spec 5.7, Q8) ----------------------------------------------------------

  @Test
  void notifierFullFlush_isDeferred_requestsAFlushOfEveryVcpu_andAcksAfterEveryVcpuAcked() {
    ActorRef<Command> mmu = spawn(2);
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    TestProbe<TlbShootdown> v1 = subscribe(mmu, 1);
    map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);
    map(mmu, 1, pte(GVSID2, 0x20006000L, 0xCD000L, true), GVSID2, 0x778, true, -1);

    TestProbe<NotifierReply> reply = kit.createTestProbe();
    mmu.tell(new NotifierInvalidate(0xAB, 0xAC, 1, true, reply.getRef())); // range ignored (Q8)
    TlbShootdown s0 = v0.expectMessageClass(TlbShootdown.class);
    TlbShootdown s1 = v1.expectMessageClass(TlbShootdown.class);
    assertThat(s0.flushRequested()).isTrue();
    assertThat(s1.flushRequested()).isTrue();
    s0.ack().tell(new TlbShootdownAck(0, s0.epoch()));
    reply.expectNoMessage(QUIET); // the IPI of kvm_flush_remote_tlbs is waited for
    s1.ack().tell(new TlbShootdownAck(1, s1.epoch()));
    NotifierAcked ack = reply.expectMessageClass(NotifierAcked.class);
    assertThat(ack.notifierSeq()).isEqualTo(1);
    assertThat(ack.removed()).isZero();
    assertThat(ack.epoch()).isEqualTo(s0.epoch());
    // nothing flushed yet: each vCPU flushes at its next guest entry
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(stats(mmu).counters()).containsEntry("NOTIFIER_FULL_FLUSHES", 1L);

    TestProbe<FlushReply> f = kit.createTestProbe();
    mmu.tell(new FlushVcpu(ids.getAndIncrement(), 0, f.getRef()));
    TlbShootdown t0 = v0.expectMessageClass(TlbShootdown.class);
    TlbShootdown t1 = v1.expectMessageClass(TlbShootdown.class);
    assertThat(t0.flushRequested()).isFalse(); // vCPU 0's request is served
    assertThat(t1.flushRequested()).isTrue(); // vCPU 1's is still pending
    t0.ack().tell(new TlbShootdownAck(0, t0.epoch()));
    t1.ack().tell(new TlbShootdownAck(1, t1.epoch()));
    assertThat(f.expectMessageClass(Flushed.class).removed()).isEqualTo(1);
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).slot()).isEqualTo(-1);
    assertThat(lookup(mmu, 1, GVSID2, 0x20006000L).protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(dump(mmu).vcpus().get(1)).hasSize(1);
  }

  @Test
  void notifierFullFlush_requestReachesAVcpuThatSubscribesLater() {
    ActorRef<Command> mmu = spawn(1);
    notify(mmu, 0, 1, 1, true); // no subscriber: acked at once
    TestProbe<TlbShootdown> p = kit.createTestProbe();
    mmu.tell(new SubscribeTlb(0, p.getRef()));
    assertThat(p.expectMessageClass(TlbShootdown.class).flushRequested()).isTrue();
  }

  // ---- dumps and core failures ----------------------------------------------------------------

  private ShadowDump dump(ActorRef<Command> mmu) {
    TestProbe<HostMmu.ShadowDumped> p = kit.createTestProbe();
    mmu.tell(new HostMmu.DumpShadow(p.getRef()));
    return p.expectMessageClass(HostMmu.ShadowDumped.class).dump();
  }

  @Test
  void dumpShadow_listsEveryVcpusEntries_inCanonicalOrder_withGfnPfnAndProtection() {
    ActorRef<Command> mmu = spawn(2);
    map(mmu, 0, pte(GVSID1, 0x10006000L, 0xAC000L, true), GVSID1, 0x779, false, -1);
    map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);

    ShadowDump d = dump(mmu);
    assertThat(d.vcpus()).hasSize(2);
    assertThat(d.vcpus().get(1)).isEmpty();
    assertThat(d.vcpus().get(0))
        .extracting(ShadowDump.ShadowEntry::eaddr)
        .containsExactly(0x10005000L, 0x10006000L);
    ShadowDump.ShadowEntry rw = d.vcpus().get(0).get(0);
    assertThat(rw.gfn()).isEqualTo(0xAB);
    assertThat(rw.pfn()).isEqualTo(0x777);
    assertThat(rw.writable()).isTrue();
    assertThat(rw.hptePresent()).isTrue();
    assertThat(rw.index()).isEqualTo(1);
    ShadowDump.ShadowEntry ro = d.vcpus().get(0).get(1);
    assertThat(ro.writable()).isFalse();
    assertThat(d.counters()).containsEntry("INSTALLS_RO", 1L).containsEntry("INSTALLS_RW", 1L);
    assertThat(d.withoutPfns().vcpus().get(0)).allMatch(e -> e.pfn() == -1);
  }

  @Test
  void mapPage_whoseCoreThrows_failsNamingVcpuAndAddress_resetsAndShootsDown_andStaysUsable() {
    HostMmuConfig cfg = HostMmuConfig.host64(1);
    HostMmuCore first = new HostMmuCore(cfg);
    first.failMapPageAt(0x10006L);
    ActorRef<Command> mmu =
        kit.spawn(HostMmu.create(cfg, HostMmu.Settings.defaults(), () -> first));
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);

    TestProbe<MapReply> p = kit.createTestProbe();
    mmu.tell(
        new MapPage(
            42, 0, pte(GVSID1, 0x10006000L, 0xAC000L, true), GVSID1, 0x778, true, -1, p.getRef()));
    TlbShootdown s = v0.expectMessageClass(TlbShootdown.class); // the reset shoots down every TLB
    p.expectNoMessage(QUIET); // the Failed waits for the ack
    s.ack().tell(new TlbShootdownAck(0, s.epoch()));
    HostMmu.Failed failed = p.expectMessageClass(HostMmu.Failed.class);
    assertThat(failed.requestId()).isEqualTo(42);
    assertThat(failed.cause()).contains("vcpu 0").contains("ea 0x10006000").contains("MapPage");
    // consistent: every shadow entry dropped, invariants hold, the retry is applied once
    assertThat(dump(mmu).entryCount()).isZero();
    assertThat(invariants(mmu).ok()).isTrue();
    assertThat(stats(mmu).counters()).containsEntry("CORE_FAILURES", 1L);
    TestProbe<MapReply> retry = kit.createTestProbe();
    mmu.tell(
        new MapPage(
            43,
            0,
            pte(GVSID1, 0x10006000L, 0xAC000L, true),
            GVSID1,
            0x778,
            true,
            -1,
            retry.getRef()));
    assertThat(retry.expectMessageClass(Mapped.class).installed()).isTrue();
    assertThat(lookup(mmu, 0, GVSID1, 0x10006000L).protection()).isEqualTo(Lookup.HIT_RW);
  }

  @Test
  void notifierRangeFlush_removesOnlyTheGuestRealRange_onEveryVcpu() {
    ActorRef<Command> mmu = spawn(2);
    map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);
    map(mmu, 1, pte(GVSID2, 0x20005000L, 0xAB000L, true), GVSID2, 0x777, true, -1);
    map(mmu, 1, pte(GVSID2, 0x20006000L, 0xCD000L, true), GVSID2, 0x778, true, -1);

    NotifierAcked ack = notify(mmu, 0xAB, 0xAC, 1, false);
    assertThat(ack.removed()).isEqualTo(2);
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).slot()).isEqualTo(-1);
    assertThat(lookup(mmu, 1, GVSID2, 0x20005000L).slot()).isEqualTo(-1);
    assertThat(lookup(mmu, 1, GVSID2, 0x20006000L).protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(stats(mmu).counters()).containsEntry("NOTIFIER_RANGE_FLUSHES", 1L);
  }

  // ---- guest tlbie and KVM_REQ_TLB_FLUSH ------------------------------------------------------

  @Test
  void guestTlbieVflush_removesTheVpageOnEveryVcpu() {
    ActorRef<Command> mmu = spawn(2);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, true, -1);
    map(mmu, 1, g, GVSID1, 0x777, true, -1);
    map(mmu, 1, pte(GVSID1, 0x10006000L, 0xAC000L, true), GVSID1, 0x779, true, -1);

    TestProbe<FlushReply> p = kit.createTestProbe();
    mmu.tell(new GuestTlbie(7, new HostFlush.PteVflush(g.vpage(), 0xFFFFFFFFFL), p.getRef()));
    Flushed f = p.expectMessageClass(Flushed.class);
    assertThat(f.requestId()).isEqualTo(7);
    assertThat(f.removed()).isEqualTo(2);
    assertThat(lookup(mmu, 1, GVSID1, 0x10006000L).protection()).isEqualTo(Lookup.HIT_RW);
  }

  @Test
  void flushVcpu_removesOnlyThatVcpusEntries() {
    ActorRef<Command> mmu = spawn(2);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, true, -1);
    map(mmu, 1, g, GVSID1, 0x777, true, -1);

    TestProbe<FlushReply> p = kit.createTestProbe();
    mmu.tell(new FlushVcpu(3, 1, p.getRef()));
    assertThat(p.expectMessageClass(Flushed.class).removed()).isEqualTo(1);
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(lookup(mmu, 1, GVSID1, 0x10005000L).slot()).isEqualTo(-1);
  }

  // ---- TLB shootdown --------------------------------------------------------------------------

  @Test
  void shootdown_withholdsTheReply_untilEverySubscriberAcked_withTheRepliedEpoch() {
    ActorRef<Command> mmu = spawn(2);
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    TestProbe<TlbShootdown> v1 = subscribe(mmu, 1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, true, -1); // nothing removed: answered without a shootdown
    v0.expectNoMessage(Duration.ZERO);

    TestProbe<UnmapReply> reply = kit.createTestProbe();
    mmu.tell(new UnmapPage(42, 0, g, false, reply.getRef()));
    TlbShootdown s0 = v0.receiveMessage();
    TlbShootdown s1 = v1.receiveMessage();
    assertThat(s1.epoch()).isEqualTo(s0.epoch());
    reply.expectNoMessage(QUIET);

    s0.ack().tell(new TlbShootdownAck(0, s0.epoch()));
    reply.expectNoMessage(QUIET);

    s1.ack().tell(new TlbShootdownAck(1, s1.epoch()));
    Unmapped u = reply.expectMessageClass(Unmapped.class);
    assertThat(u.requestId()).isEqualTo(42);
    assertThat(u.removed()).isEqualTo(1);
    assertThat(u.epoch()).isEqualTo(s0.epoch());
  }

  @Test
  void shootdown_staleAck_doesNotRelease_theReply() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, true, -1);
    TestProbe<UnmapReply> reply = kit.createTestProbe();
    mmu.tell(new UnmapPage(1, 0, g, false, reply.getRef()));
    TlbShootdown s = v0.receiveMessage();

    s.ack().tell(new TlbShootdownAck(0, s.epoch() - 1));
    reply.expectNoMessage(QUIET);
    s.ack().tell(new TlbShootdownAck(0, s.epoch()));
    assertThat(reply.expectMessageClass(Unmapped.class).epoch()).isEqualTo(s.epoch());
  }

  @Test
  void duringShootdown_lookupsAreAnswered_butMutationsWaitForTheAcks() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    GuestPte a = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    GuestPte b = pte(GVSID1, 0x10006000L, 0xAC000L, true);
    map(mmu, 0, a, GVSID1, 0x777, true, -1);
    map(mmu, 0, b, GVSID1, 0x778, true, -1);

    TestProbe<UnmapReply> unmapReply = kit.createTestProbe();
    mmu.tell(new UnmapPage(10, 0, a, false, unmapReply.getRef()));
    TlbShootdown s = v0.receiveMessage();
    TestProbe<FlushReply> flushReply = kit.createTestProbe();
    mmu.tell(new FlushVcpu(11, 0, flushReply.getRef()));

    LookedUp l = lookup(mmu, 0, GVSID1, 0x10006000L); // answered during the shootdown
    assertThat(l.protection()).isEqualTo(Lookup.HIT_RW);
    assertThat(l.epoch()).isEqualTo(s.epoch());
    flushReply.expectNoMessage(QUIET);
    unmapReply.expectNoMessage(Duration.ZERO);

    s.ack().tell(new TlbShootdownAck(0, s.epoch()));
    assertThat(unmapReply.expectMessageClass(Unmapped.class).epoch()).isEqualTo(s.epoch());
    TlbShootdown s2 = v0.receiveMessage(); // the stashed flush ran and shoots down again
    assertThat(s2.epoch()).isEqualTo(s.epoch() + 1);
    flushReply.expectNoMessage(QUIET);
    s2.ack().tell(new TlbShootdownAck(0, s2.epoch()));
    Flushed f = flushReply.expectMessageClass(Flushed.class);
    assertThat(f.removed()).isEqualTo(1);
    assertThat(f.epoch()).isEqualTo(s2.epoch());
  }

  @Test
  void notifierAck_waitsForTheShootdown() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);
    TestProbe<NotifierReply> reply = kit.createTestProbe();
    mmu.tell(new NotifierInvalidate(0xAB, 0xAC, 3, false, reply.getRef()));
    TlbShootdown s = v0.receiveMessage();
    reply.expectNoMessage(QUIET);
    s.ack().tell(new TlbShootdownAck(0, s.epoch()));
    NotifierAcked ack = reply.expectMessageClass(NotifierAcked.class);
    assertThat(ack.notifierSeq()).isEqualTo(3);
    assertThat(ack.epoch()).isEqualTo(s.epoch());
  }

  @Test
  void stoppedSubscriber_isNotAwaited() {
    ActorRef<Command> mmu = spawn(2);
    TestProbe<TlbShootdown> v0 = subscribe(mmu, 0);
    TestProbe<TlbShootdown> v1 = subscribe(mmu, 1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, true, -1);
    v1.stop();

    TestProbe<UnmapReply> reply = kit.createTestProbe();
    mmu.tell(new UnmapPage(5, 0, g, false, reply.getRef()));
    TlbShootdown s = v0.receiveMessage();
    s.ack().tell(new TlbShootdownAck(0, s.epoch()));
    assertThat(reply.expectMessageClass(Unmapped.class).removed()).isEqualTo(1);
    assertThat(stats(mmu).subscribers()).isEqualTo(1);
  }

  @Test
  void subscribe_withAKnownEpoch_movesTheEpochAboveIt() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<TlbShootdown> p = kit.createTestProbe();
    mmu.tell(new SubscribeTlb(0, 100, p.getRef()));
    assertThat(p.receiveMessage().epoch()).isEqualTo(101);
    Mapped m = map(mmu, 0, pte(GVSID1, 0x10005000L, 0xAB000L, true), GVSID1, 0x777, true, -1);
    assertThat(m.epoch()).isEqualTo(101);
  }

  @Test
  void freshHostMmu_startsAtFirstEpoch() {
    ActorRef<Command> mmu = spawn(1);
    assertThat(lookup(mmu, 0, GVSID1, 0).epoch()).isEqualTo(HostMmu.FIRST_EPOCH);
    TestProbe<TlbShootdown> p = kit.createTestProbe();
    mmu.tell(new SubscribeTlb(0, p.getRef()));
    assertThat(p.receiveMessage().epoch()).isEqualTo(HostMmu.FIRST_EPOCH);
  }

  // ---- idempotent retries ---------------------------------------------------------------------

  @Test
  void retriedMapPage_installsOnce_andGetsTheSameReply() {
    ActorRef<Command> mmu = spawn(1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    TestProbe<MapReply> p = kit.createTestProbe();
    MapPage cmd = new MapPage(77, 0, g, GVSID1, 0x777, false, -1, p.getRef());
    mmu.tell(cmd);
    Mapped first = p.expectMessageClass(Mapped.class);
    mmu.tell(cmd);
    Mapped again = p.expectMessageClass(Mapped.class);

    assertThat(again).isEqualTo(first);
    StatsReply s = stats(mmu);
    assertThat(s.counters()).containsEntry("INSTALLS_RO", 1L);
    assertThat(s.counters()).containsEntry("RETRIES_ANSWERED", 1L);
    InvariantsReply inv = invariants(mmu);
    assertThat(inv.violations()).isEmpty();
    assertThat(inv.liveEntries()).isEqualTo(1);
  }

  @Test
  void retriedUnmapPage_isNotAppliedAgain_evenAfterARemap() {
    ActorRef<Command> mmu = spawn(1);
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    map(mmu, 0, g, GVSID1, 0x777, false, -1);
    TestProbe<UnmapReply> p = kit.createTestProbe();
    UnmapPage cmd = new UnmapPage(9, 0, g, false, p.getRef());
    mmu.tell(cmd);
    Unmapped first = p.expectMessageClass(Unmapped.class);
    map(mmu, 0, g, GVSID1, 0x888, true, -1);
    mmu.tell(cmd); // a late duplicate must not remove the new writable mapping
    assertThat(p.expectMessageClass(Unmapped.class)).isEqualTo(first);
    assertThat(lookup(mmu, 0, GVSID1, 0x10005000L).protection()).isEqualTo(Lookup.HIT_RW);
  }

  // ---- rejections -----------------------------------------------------------------------------

  @Test
  void badVcpuIndex_isRejected_namingTheFieldAndRange() {
    ActorRef<Command> mmu = spawn(2);
    TestProbe<LookupReply> lp = kit.createTestProbe();
    mmu.tell(new HostMmu.Lookup(1, 2, GVSID1, 0, lp.getRef()));
    Rejected r = lp.expectMessageClass(Rejected.class);
    assertThat(r.requestId()).isEqualTo(1);
    assertThat(r.reason()).startsWith("vcpu: 2").contains("allowed 0 to 1");

    TestProbe<MapReply> mp = kit.createTestProbe();
    mmu.tell(
        new MapPage(2, -1, pte(GVSID1, 0x1000, 0x1000, true), GVSID1, 1, true, -1, mp.getRef()));
    assertThat(mp.expectMessageClass(Rejected.class).reason()).startsWith("vcpu: -1");

    assertThat(stats(mmu).counters()).containsEntry("REJECTED", 2L);
    assertThat(invariants(mmu).htabValid()).isZero();
  }

  @Test
  void badPfn_isRejected_byTheCoresCheck_andNothingChanges() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<MapReply> mp = kit.createTestProbe();
    mmu.tell(
        new MapPage(4, 0, pte(GVSID1, 0x1000, 0x1000, true), GVSID1, -5, true, -1, mp.getRef()));
    assertThat(mp.expectMessageClass(Rejected.class).reason()).startsWith("pfn: -5");
    assertThat(invariants(mmu).htabValid()).isZero();
  }

  @Test
  void badNotifierRange_isRejected_namingGfnEnd() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<NotifierReply> p = kit.createTestProbe();
    mmu.tell(new NotifierInvalidate(10, 5, 8, false, p.getRef()));
    Rejected r = p.expectMessageClass(Rejected.class);
    assertThat(r.requestId()).isEqualTo(8);
    assertThat(r.reason()).startsWith("gfnEnd: 5").contains("allowed 10 to");
  }

  @Test
  void nullFlush_isRejected() {
    ActorRef<Command> mmu = spawn(1);
    TestProbe<FlushReply> p = kit.createTestProbe();
    mmu.tell(new GuestTlbie(6, null, p.getRef()));
    assertThat(p.expectMessageClass(Rejected.class).reason()).startsWith("flush:");
  }
}
