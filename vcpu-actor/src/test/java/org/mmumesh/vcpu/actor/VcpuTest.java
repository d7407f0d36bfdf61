package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.Counter;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.VcpuSetup;

/**
 * The Vcpu actor's flows (architecture 4, spec 6.2) against TestProbes standing in for GuestMmu,
 * HostMmu, PageFrame and the store sink, on ManualTime. Every message crosses the CBOR serializer
 * ({@code serialize-messages = on} in the test configuration).
 */
class VcpuTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  /**
   * The timeout plus one tick (the default tick, a tenth of the timeout): a request sent while the
   * vCPU's tick runs times out at most one tick after {@link #TIMEOUT} (Vcpu class comment).
   */
  private static final Duration TIMEOUT_AND_TICK = TIMEOUT.plus(TIMEOUT.dividedBy(10));

  private static final long EA = 0x10005010L;
  private static final long ESID = EA >>> 28;
  private static final long GVSID = 0x1234L;
  private static final int MODE = 3; // IR | DR, supervisor
  private static final GuestPte PTE =
      new GuestPte(EA, 0x12340005L, 0xAB000L, true, true, true, PageSize.SIZE_4K);

  private TestProbe<GuestMmu.Command> guest;
  private TestProbe<HostMmu.Command> host;
  private TestProbe<PageFrame.Command> frames;
  private TestProbe<PageFrame.ApplyStores> stores;
  private TestProbe<Vcpu.BatchReply> batches;
  private TestProbe<Vcpu.ControlReply> control;
  private ActorRef<Vcpu.Command> vcpu;
  private ActorRef<HostMmu.TlbShootdown> shootdowns;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    guest = kit.createTestProbe();
    host = kit.createTestProbe();
    frames = kit.createTestProbe();
    stores = kit.createTestProbe();
    batches = kit.createTestProbe();
    control = kit.createTestProbe();
  }

  private static VcpuSetup setup(int maxOutstanding) {
    return new VcpuSetup(
        0, 0, MmuOptions.defaults(Policy.FIXED), 64, 4, TIMEOUT, 3, maxOutstanding, 4);
  }

  /** Spawns a vCPU, answers its subscription and mode request. */
  private void start(VcpuSetup setup) {
    vcpu =
        kit.spawn(
            Vcpu.create(setup, guest.getRef(), host.getRef(), frames.getRef(), stores.getRef()));
    HostMmu.SubscribeTlb sub = host.expectMessageClass(HostMmu.SubscribeTlb.class);
    assertThat(sub.vcpu()).isZero();
    assertThat(sub.knownEpoch()).isZero();
    shootdowns = sub.vcpuRef();
    shootdowns.tell(new HostMmu.TlbShootdown(1, host.getRef().narrow()));
    assertThat(host.expectMessageClass(HostMmu.TlbShootdownAck.class))
        .isEqualTo(new HostMmu.TlbShootdownAck(0, 1));
    GuestMmu.GetMode gm = guest.expectMessageClass(GuestMmu.GetMode.class);
    assertThat(gm.vcpu()).isZero();
    gm.replyTo().tell(new GuestMmu.ModeOf(MODE));
  }

  private void start() {
    start(setup(2));
  }

  private void run(long batchId, AccessOp... ops) {
    vcpu.tell(new Vcpu.RunBatch(batchId, List.of(ops), batches.getRef()));
  }

  private static AccessOp load(long ea) {
    return new AccessOp(Access.LOAD, ea, 0);
  }

  private static AccessOp store(long ea, long value) {
    return new AccessOp(Access.STORE, ea, value);
  }

  private void answerVsid(long esid, long gvsid) {
    GuestMmu.EsidToVsid e = guest.expectMessageClass(GuestMmu.EsidToVsid.class);
    assertThat(e.esid()).isEqualTo(esid);
    e.replyTo().tell(new GuestMmu.VsidOf(e.requestId(), gvsid));
  }

  private HostMmu.Lookup answerLookup(int slot, Lookup prot, int pfn, long epoch) {
    HostMmu.Lookup l = host.expectMessageClass(HostMmu.Lookup.class);
    assertThat(l.gvsid()).isEqualTo(GVSID);
    l.replyTo().tell(new HostMmu.LookedUp(l.requestId(), slot, prot, pfn, epoch));
    return l;
  }

  private GuestMmu.Xlate answerXlate(Access access, XlateResult r) {
    GuestMmu.Xlate x = guest.expectMessageClass(GuestMmu.Xlate.class);
    assertThat(x.access()).isEqualTo(access);
    assertThat(x.relocated()).isTrue();
    x.replyTo().tell(new GuestMmu.Translated(x.requestId(), r, GVSID));
    return x;
  }

  private static XlateResult ok(boolean cAfter) {
    return new XlateResult(
        XlateStatus.OK, PTE, XlateResult.R, XlateResult.R | (cAfter ? XlateResult.C : 0));
  }

  private Vcpu.BatchDone done() {
    return batches.expectMessageClass(Vcpu.BatchDone.class);
  }

  /**
   * The NOHPTE load flow up to the map; the lease is kept through the retry (released when the
   * retried access completes: {@link #expectRelease}).
   */
  private void noHpteLoadFault(long lease) {
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    assertThat(g.gfn()).isEqualTo(0xAB);
    assertThat(g.writeFault()).isFalse();
    assertThat(g.vm()).isZero();
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.OK, 77, false, 5), lease));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    assertThat(m.pfn()).isEqualTo(77);
    assertThat(m.writable()).isFalse();
    assertThat(m.guardSeq()).isEqualTo(-1); // fixed carries Q8: no notifier guard
    assertThat(m.pte()).isEqualTo(PTE);
    m.replyTo().tell(new HostMmu.Mapped(m.requestId(), true, true, false, 1));
    frames.expectNoMessage(Duration.ZERO); // the lease and its page reference held for the retry
  }

  private void expectRelease(long lease) {
    assertThat(frames.expectMessageClass(PageFrame.ReleaseLease.class))
        .isEqualTo(new PageFrame.ReleaseLease(0, lease));
  }

  @Test
  void noHpteLoad_xlateGfnToPfnMapReleaseLookup_thenTlbHitsSendNoMessage() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    noHpteLoadFault(9);
    answerLookup(3, Lookup.HIT_RO, 77, 1);
    expectRelease(9); // once the retried access executed
    Vcpu.BatchDone d = done();
    assertThat(d.batchId()).isEqualTo(1);
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.failed()).isZero();
    assertThat(d.counters().get(Counter.NOHPTE_EXITS)).isEqualTo(1);
    assertThat(d.counters().get(Counter.HOST_MAPS_RO)).isEqualTo(1);
    assertThat(d.counters().get(Counter.HTAB_HITS)).isEqualTo(1);

    run(2, load(EA), load(EA + 8), new AccessOp(Access.IFETCH, EA + 4, 0));
    Vcpu.BatchDone d2 = done();
    assertThat(d2.completed()).isEqualTo(3);
    assertThat(d2.counters().get(Counter.TLB_HITS)).isEqualTo(3);
    assertThat(d2.counters().get(Counter.ACCESSES)).isEqualTo(4);
    guest.expectNoMessage(Duration.ofMillis(50));
    host.expectNoMessage(Duration.ofMillis(10));
    frames.expectNoMessage(Duration.ofMillis(10));
    stores.expectNoMessage(Duration.ofMillis(10));
  }

  @Test
  void
      protfaultStoreOnReadOnlyHit_xlateWriteGfnToPfnUnmapMapWritable_thenStoreFlushedBeforeBatchDone() {
    start();
    run(1, store(EA, 0x55));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RO, 77, 1);
    answerXlate(Access.STORE, ok(true));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    assertThat(g.writeFault()).isTrue();
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(g.requestId(), new PfnResult(PfnStatus.OK, 90, true, 6), 4));
    HostMmu.UnmapPage u = host.expectMessageClass(HostMmu.UnmapPage.class);
    assertThat(u.pte()).isEqualTo(PTE);
    u.replyTo().tell(new HostMmu.Unmapped(u.requestId(), 1, 2));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    assertThat(m.pfn()).isEqualTo(90);
    assertThat(m.writable()).isTrue();
    m.replyTo().tell(new HostMmu.Mapped(m.requestId(), true, false, true, 2));
    answerLookup(5, Lookup.HIT_RW, 90, 2);
    expectRelease(4); // after the retried store executed: ksmd could not merge frame 90 meanwhile
    PageFrame.ApplyStores sb = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(sb.pfns()).containsExactly(90);
    assertThat(sb.offsets()).containsExactly((int) (EA & 0xFFF));
    assertThat(sb.values()).containsExactly(0x55L);
    batches.expectNoMessage(Duration.ofMillis(50));
    sb.replyTo().tell(new PageFrame.StoresDone(sb.requestId(), 1, 0));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.PROTFAULT_EXITS)).isEqualTo(1);
    assertThat(d.counters().get(Counter.UNMAPS)).isEqualTo(1);
    assertThat(d.counters().get(Counter.HOST_MAPS_RW)).isEqualTo(1);
    assertThat(d.counters().get(Counter.MARK_DIRTY)).isEqualTo(1);
    assertThat(d.counters().get(Counter.STORE_FLUSHES)).isEqualTo(1);
  }

  @Test
  void storeFlushRejected_countsItsStoresLost_andTheBatchStillEnds() {
    start();
    run(1, store(EA, 7), store(EA + 8, 9));
    answerVsid(ESID, GVSID);
    answerLookup(2, Lookup.HIT_RW, 12, 1); // the second store hits the TLB
    PageFrame.ApplyStores sb = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(sb.pfns()).hasSize(2);
    // the page frames' Rejected is one type for every request: the flush's id says it is its own
    sb.replyTo().tell(new PageFrame.Rejected(sb.requestId(), "vm: 0 is not a VM"));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(2);
    assertThat(d.counters().get(Counter.STORES_LOST)).isEqualTo(2);
    assertThat(d.counters().get(Counter.STORE_FLUSHES)).isEqualTo(1);
  }

  @Test
  void gfnToPfnRejected_failsTheAccess_althoughItsReplyComesThroughTheStoreAdapter() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    // the same reply type as a refused store flush, sent to the vCPU's store adapter
    g.replyTo().tell(new PageFrame.Rejected(g.requestId(), "gfn: out of range"));
    Vcpu.BatchDone d = done();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures().get(0)).endsWith("page frames rejected: gfn: out of range");
    assertThat(d.counters().get(Counter.STORES_LOST)).isZero();
  }

  @Test
  void reflectedDsi_enoentXlate_handleExceptionWithNotFoundDsisr_thenRetriedAfterSegmentChange() {
    start();
    run(1, store(EA, 1));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.STORE, new XlateResult(XlateStatus.ENOENT, null, -1, -1));
    GuestMmu.HandleException h = guest.expectMessageClass(GuestMmu.HandleException.class);
    assertThat(h.vector()).isEqualTo(FaultBits.VEC_DSI);
    assertThat(h.dsisr()).isEqualTo(FaultBits.DSISR_NOHPTE | FaultBits.DSISR_ISSTORE);
    assertThat(h.srr1Bits()).isZero();
    assertThat(h.ea()).isEqualTo(EA);
    h.replyTo().tell(new GuestMmu.ExceptionHandled(h.requestId(), true, null, true));
    // the segment cache was dropped: the vsid is asked again before the lookup
    answerVsid(ESID, GVSID);
    answerLookup(2, Lookup.HIT_RW, 12, 1);
    PageFrame.ApplyStores sb = stores.expectMessageClass(PageFrame.ApplyStores.class);
    sb.replyTo().tell(new PageFrame.StoresDone(sb.requestId(), 1, 0));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.REFLECTED_DSI)).isEqualTo(1);
    assertThat(d.counters().get(Counter.REFLECTED_NOT_FOUND)).isEqualTo(1);
  }

  @Test
  void reflectedDsi_guestKernelGivesUp_failsTheAccessWithItsReason() {
    start();
    run(1, load(EA), load(EA + 0x1000));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, new XlateResult(XlateStatus.ENOENT, null, -1, -1));
    GuestMmu.HandleException h = guest.expectMessageClass(GuestMmu.HandleException.class);
    assertThat(h.dsisr()).isEqualTo(FaultBits.DSISR_NOHPTE);
    h.replyTo().tell(new GuestMmu.ExceptionHandled(h.requestId(), false, "SIGSEGV", false));
    // the second access goes on (segment still cached)
    HostMmu.Lookup l = host.expectMessageClass(HostMmu.Lookup.class);
    assertThat(l.ea()).isEqualTo(EA + 0x1000);
    l.replyTo().tell(new HostMmu.Rejected(l.requestId(), "vcpu: 0 bad"));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isZero();
    assertThat(d.failed()).isEqualTo(2);
    assertThat(d.failures().get(0))
        .startsWith("vm 0 vcpu 0 LOAD at 0x10005010")
        .endsWith("SIGSEGV");
    assertThat(d.failures().get(1)).contains("host MMU rejected: vcpu: 0 bad");
  }

  @Test
  void timeout_retriesTheSameRequestId_thenFailsTheAccessAfterTheBound() {
    start();
    run(1, load(EA));
    GuestMmu.EsidToVsid first = guest.expectMessageClass(GuestMmu.EsidToVsid.class);
    time.timePasses(TIMEOUT_AND_TICK);
    assertThat(guest.expectMessageClass(GuestMmu.EsidToVsid.class).requestId())
        .isEqualTo(first.requestId());
    time.timePasses(TIMEOUT_AND_TICK);
    assertThat(guest.expectMessageClass(GuestMmu.EsidToVsid.class).requestId())
        .isEqualTo(first.requestId());
    time.timePasses(TIMEOUT_AND_TICK);
    Vcpu.BatchDone d = done();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures().get(0)).contains("timeout: EsidToVsid request " + first.requestId());
    assertThat(d.counters().get(Counter.TIMEOUTS)).isEqualTo(3);
    assertThat(d.counters().get(Counter.RETRIES)).isEqualTo(2);
    // a late answer is ignored
    first.replyTo().tell(new GuestMmu.VsidOf(first.requestId(), GVSID));
    host.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void timeoutDuringMap_releasesTheLease_andALatePfnAnswerReleasesItsLease() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    time.timePasses(TIMEOUT_AND_TICK);
    PageFrame.GfnToPfnProt again = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    assertThat(again.requestId()).isEqualTo(g.requestId());
    PfnResult r = new PfnResult(PfnStatus.OK, 77, false, 5);
    g.replyTo().tell(new PageFrame.PfnAnswered(g.requestId(), r, 21));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    // the retry's duplicate answer names the same lease: still held, not released
    again.replyTo().tell(new PageFrame.PfnAnswered(g.requestId(), r, 21));
    frames.expectNoMessage(Duration.ofMillis(50));
    for (int i = 0; i < 3; i++) {
      time.timePasses(TIMEOUT_AND_TICK);
      if (i < 2) {
        assertThat(host.expectMessageClass(HostMmu.MapPage.class).requestId())
            .isEqualTo(m.requestId());
      }
    }
    assertThat(frames.expectMessageClass(PageFrame.ReleaseLease.class).lease()).isEqualTo(21);
    Vcpu.BatchDone d = done();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures().get(0)).contains("timeout: MapPage");
    // a stale answer with another lease is released at once
    g.replyTo().tell(new PageFrame.PfnAnswered(g.requestId(), r, 22));
    assertThat(frames.expectMessageClass(PageFrame.ReleaseLease.class).lease()).isEqualTo(22);
  }

  @Test
  void shootdownWhileAwaitingFault_isAckedAtOnce_afterTheBufferedStoresAreApplied() {
    start();
    run(1, store(EA, 7), load(EA + 0x1000));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RW, 50, 1); // the store completes into the buffer
    answerLookup(-1, Lookup.MISS, -1, 1); // the load faults
    GuestMmu.Xlate x = guest.expectMessageClass(GuestMmu.Xlate.class);

    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    shootdowns.tell(new HostMmu.TlbShootdown(2, ack.getRef()));
    PageFrame.ApplyStores sb = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(sb.pfns()).containsExactly(50);
    assertThat(sb.values()).containsExactly(7L);
    ack.expectNoMessage(Duration.ofMillis(50));
    sb.replyTo().tell(new PageFrame.StoresDone(sb.requestId(), 1, 0));
    assertThat(ack.receiveMessage()).isEqualTo(new HostMmu.TlbShootdownAck(0, 2));

    // with an empty buffer the next one is acked at once, still mid-fault
    shootdowns.tell(new HostMmu.TlbShootdown(3, ack.getRef()));
    assertThat(ack.receiveMessage()).isEqualTo(new HostMmu.TlbShootdownAck(0, 3));

    // finish the fault (ENOENT, guest fails it)
    x.replyTo()
        .tell(
            new GuestMmu.Translated(
                x.requestId(), new XlateResult(XlateStatus.ENOENT, null, -1, -1), GVSID));
    GuestMmu.HandleException h = guest.expectMessageClass(GuestMmu.HandleException.class);
    h.replyTo().tell(new GuestMmu.ExceptionHandled(h.requestId(), false, "SIGBUS", false));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.failed()).isEqualTo(1);

    // the TLB was emptied: the store looks up again
    run(2, store(EA, 8));
    HostMmu.Lookup l = host.expectMessageClass(HostMmu.Lookup.class);
    assertThat(l.ea()).isEqualTo(EA);
  }

  @Test
  void illegalCommands_areRejectedNamingTheState() {
    start();
    run(1, load(EA)); // running: waiting for the segment's VSID
    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    vcpu.tell(new Vcpu.SetState(5, SLBIA_AND_MSR, st.getRef()));
    Vcpu.Rejected r = st.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.state()).isEqualTo(Vcpu.VcpuState.RUNNING);
    assertThat(r.reason()).isEqualTo("SetState: not allowed in state RUNNING; allowed in IDLE");
    answerVsid(ESID, GVSID);
    vcpu.tell(new Vcpu.Halt(control.getRef()));
    answerLookup(4, Lookup.HIT_RO, 9, 1);
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    control.expectMessage(new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED));
    run(2, load(EA));
    Vcpu.Rejected rb = batches.expectMessageClass(Vcpu.Rejected.class);
    assertThat(rb.id()).isEqualTo(2);
    assertThat(rb.state()).isEqualTo(Vcpu.VcpuState.HALTED);
    vcpu.tell(new Vcpu.Halt(control.getRef()));
    assertThat(control.expectMessageClass(Vcpu.Rejected.class).reason())
        .startsWith("Halt: not allowed in state HALTED");
    // a halted vCPU still acknowledges shootdowns
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    shootdowns.tell(new HostMmu.TlbShootdown(5, ack.getRef()));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 5));
  }

  @Test
  void haltMidFault_failsEveryUnexecutedAccess_ofTheCurrentAndQueuedBatches() {
    start();
    run(1, load(EA), load(EA + 8));
    run(2, load(EA), store(EA, 1), load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    GuestMmu.Xlate x = guest.expectMessageClass(GuestMmu.Xlate.class);
    vcpu.tell(new Vcpu.Halt(control.getRef()));
    control.expectNoMessage(Duration.ofMillis(50));
    x.replyTo().tell(new GuestMmu.Rejected(x.requestId(), "ea: out of range"));
    Vcpu.BatchDone d1 = done();
    Vcpu.BatchDone d2 = done();
    assertThat(d1.batchId()).isEqualTo(1);
    assertThat(d1.failed()).isEqualTo(2);
    assertThat(d1.failures().get(0)).contains("guest MMU rejected: ea: out of range");
    assertThat(d1.failures().get(1)).contains("halted");
    assertThat(d2.batchId()).isEqualTo(2);
    assertThat(d2.completed() + d2.failed()).isEqualTo(3);
    assertThat(d2.failed()).isEqualTo(3);
    control.expectMessage(new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED));
  }

  @Test
  void outstandingBatches_areBounded_retriesJoin_oldIdsAreRejected() {
    start();
    run(5, load(EA));
    run(6, load(EA));
    run(7, load(EA));
    Vcpu.Rejected r = batches.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.id()).isEqualTo(7);
    assertThat(r.reason())
        .isEqualTo("batches: 2 outstanding; allowed at most 2 (send more after a BatchDone)");
    run(5, load(EA)); // a retry joins batch 5
    run(4, load(EA));
    assertThat(batches.expectMessageClass(Vcpu.Rejected.class).reason())
        .startsWith("batchId: 4 is not above");
    vcpu.tell(new Vcpu.RunBatch(8, List.of(), batches.getRef()));
    assertThat(batches.expectMessageClass(Vcpu.Rejected.class).reason())
        .isEqualTo("accesses: 0 accesses is out of range; allowed 1 to " + Vcpu.MAX_BATCH_ACCESSES);
    answerVsid(ESID, GVSID);
    answerLookup(4, Lookup.HIT_RO, 9, 1);
    // batch 5 answered to both requesters (the same probe), batch 6 hits the TLB
    assertThat(done().batchId()).isEqualTo(5);
    assertThat(done().batchId()).isEqualTo(5);
    Vcpu.BatchDone d6 = done();
    assertThat(d6.batchId()).isEqualTo(6);
    assertThat(d6.counters().get(Counter.ACCESSES))
        .isEqualTo(2); // the join did not run batch 5 twice
    run(6, load(EA)); // the last completed batch is answered from memory
    assertThat(done()).isEqualTo(d6);
  }

  // ---- SetState (issue 5) ---------------------------------------------------------------------

  private static final List<VcpuStateChange> SLBIA_AND_MSR =
      List.of(new VcpuStateChange.Slbia(), new VcpuStateChange.SetMsr(false, true, true));

  /** A load that fills the TLB (vsid, host hit), so that a later load of EA would hit it. */
  private void loadIntoTheTlb(long batchId) {
    run(batchId, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RO, 77, 1);
    assertThat(done().completed()).isEqualTo(1);
  }

  @Test
  void setStateInIdle_forwardsToGuestMmu_flushesTheHost_answers_andDropsTlbAndVsids() {
    start();
    loadIntoTheTlb(1);
    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    vcpu.tell(new Vcpu.SetState(40, SLBIA_AND_MSR, st.getRef()));
    GuestMmu.SetVcpuState g = guest.expectMessageClass(GuestMmu.SetVcpuState.class);
    assertThat(g.vcpu()).isZero();
    assertThat(g.changes()).isEqualTo(SLBIA_AND_MSR);
    // meanwhile the vCPU is busy: a batch is queued, another SetState rejected naming the state
    run(2, load(EA));
    vcpu.tell(new Vcpu.SetState(41, SLBIA_AND_MSR, st.getRef()));
    Vcpu.Rejected busy = st.expectMessageClass(Vcpu.Rejected.class);
    assertThat(busy.id()).isEqualTo(41);
    assertThat(busy.reason()).isEqualTo("SetState: not allowed in state RUNNING; allowed in IDLE");
    vcpu.tell(new Vcpu.SetState(40, SLBIA_AND_MSR, st.getRef())); // a retry joins
    g.replyTo().tell(new GuestMmu.VcpuStateSet(g.requestId(), MODE));
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    assertThat(f.vcpu()).isZero();
    st.expectNoMessage(Duration.ofMillis(50)); // not before the host flushed
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 2, 1));
    st.expectMessage(new Vcpu.StateSet(40, MODE));
    st.expectMessage(new Vcpu.StateSet(40, MODE));
    // the queued batch runs: same mode, but TLB and VSID cache were dropped
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RO, 77, 1);
    Vcpu.BatchDone d = done();
    assertThat(d.counters().get(Counter.TLB_HITS)).isZero();
    // a retry of the completed request is answered from memory, nothing sent
    vcpu.tell(new Vcpu.SetState(40, SLBIA_AND_MSR, st.getRef()));
    st.expectMessage(new Vcpu.StateSet(40, MODE));
    guest.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void setState_takesTheNewMode_guestRejectionIsPassedOn_andIdleStaysIdle() {
    start();
    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    List<VcpuStateChange> bad = List.of(new VcpuStateChange.Mtsrin(0, 1));
    vcpu.tell(new Vcpu.SetState(50, bad, st.getRef()));
    GuestMmu.SetVcpuState g = guest.expectMessageClass(GuestMmu.SetVcpuState.class);
    g.replyTo()
        .tell(new GuestMmu.Rejected(g.requestId(), "changes[0] mtsrin: the guest is 64-bit"));
    Vcpu.Rejected r = st.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.id()).isEqualTo(50);
    assertThat(r.state()).isEqualTo(Vcpu.VcpuState.IDLE);
    assertThat(r.reason()).isEqualTo("guest MMU rejected: changes[0] mtsrin: the guest is 64-bit");
    host.expectNoMessage(Duration.ofMillis(50)); // nothing changed: no flush
    // empty lists are rejected by the vCPU itself, naming the field and range
    vcpu.tell(new Vcpu.SetState(51, List.of(), st.getRef()));
    assertThat(st.expectMessageClass(Vcpu.Rejected.class).reason())
        .isEqualTo("changes: 0 changes is out of range; allowed 1 to " + Vcpu.MAX_STATE_CHANGES);
    // problem state, relocation off: mode 4
    vcpu.tell(
        new Vcpu.SetState(
            52, List.of(new VcpuStateChange.SetMsr(true, false, false)), st.getRef()));
    GuestMmu.SetVcpuState g2 = guest.expectMessageClass(GuestMmu.SetVcpuState.class);
    g2.replyTo().tell(new GuestMmu.VcpuStateSet(g2.requestId(), 4));
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 0, 1));
    st.expectMessage(new Vcpu.StateSet(52, 4));
    TestProbe<Vcpu.StatusReport> status = kit.createTestProbe();
    vcpu.tell(new Vcpu.GetCounters(status.getRef()));
    assertThat(status.receiveMessage().state()).isEqualTo(Vcpu.VcpuState.IDLE);
    // real mode now: a load is a fault with relocation off (Xlate relocated = false)
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    assertThat(guest.expectMessageClass(GuestMmu.Xlate.class).relocated()).isFalse();
  }

  @Test
  void setStateWhileAwaitingFault_isRejectedNamingTheState() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    guest.expectMessageClass(GuestMmu.Xlate.class);
    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    vcpu.tell(new Vcpu.SetState(60, SLBIA_AND_MSR, st.getRef()));
    Vcpu.Rejected r = st.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.state()).isEqualTo(Vcpu.VcpuState.AWAITING_FAULT);
    assertThat(r.reason())
        .isEqualTo("SetState: not allowed in state AWAITING_FAULT; allowed in IDLE");
    guest.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void traceAccess_isLegalInIdleOnly_runningAndAwaitingFaultAreRejectedNamingTheState() {
    start();
    TestProbe<Vcpu.TraceReply> tr = kit.createTestProbe();
    run(1, load(EA)); // running: waiting for the segment's VSID
    vcpu.tell(new Vcpu.TraceAccess(70, load(EA), tr.getRef()));
    Vcpu.Rejected r = tr.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.id()).isEqualTo(70);
    assertThat(r.reason()).isEqualTo("TraceAccess: not allowed in state RUNNING; allowed in IDLE");
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    guest.expectMessageClass(GuestMmu.Xlate.class);
    vcpu.tell(new Vcpu.TraceAccess(71, load(EA), tr.getRef()));
    assertThat(tr.expectMessageClass(Vcpu.Rejected.class).state())
        .isEqualTo(Vcpu.VcpuState.AWAITING_FAULT);
    vcpu.tell(new Vcpu.TraceAccess(72, new AccessOp(null, EA, 0), tr.getRef()));
    tr.expectMessageClass(Vcpu.Rejected.class);
  }

  @Test
  void traceAccess_inIdle_readsRc_runsTheAccess_readsRcAndTheWord_thenBatchesQueuedMeanwhileRun() {
    start();
    TestProbe<Vcpu.TraceReply> tr = kit.createTestProbe();
    vcpu.tell(new Vcpu.TraceAccess(80, load(EA), tr.getRef()));
    GuestMmu.ReadRc before = guest.expectMessageClass(GuestMmu.ReadRc.class);
    assertThat(before.ea()).isEqualTo(EA);
    run(1, load(EA)); // queued behind the trace
    before.replyTo().tell(new GuestMmu.RcOf(before.requestId(), true, false));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RO, 77, 1);
    GuestMmu.ReadRc after = guest.expectMessageClass(GuestMmu.ReadRc.class);
    after.replyTo().tell(new GuestMmu.RcOf(after.requestId(), true, false));
    PageFrame.ReadWord w = frames.expectMessageClass(PageFrame.ReadWord.class);
    assertThat(w.pfn()).isEqualTo(77);
    assertThat(w.offset()).isEqualTo((int) (EA & 0xFFF));
    batches.expectNoMessage(Duration.ofMillis(50)); // the batch waits for the trace
    w.replyTo().tell(new PageFrame.WordRead(w.requestId(), 77, 5, 1234));
    AccessTrace t = tr.expectMessageClass(Vcpu.AccessTraced.class).trace();
    assertThat(t.hostHpteHit()).isTrue();
    assertThat(t.tlbHit()).isFalse();
    assertThat(t.completed()).isTrue();
    assertThat(t.hostPfn()).isEqualTo(77);
    assertThat(t.loadedValue()).isEqualTo(1234);
    assertThat(t.rcBefore()).isEqualTo(new AccessTrace.Rc(true, false));
    Vcpu.BatchDone d = done();
    assertThat(d.batchId()).isEqualTo(1);
    assertThat(d.counters().get(Counter.TLB_HITS))
        .isEqualTo(1); // the batch hit what the trace filled
    assertThat(d.counters().get(Counter.ACCESSES)).isEqualTo(2); // the traced access counts
  }

  @Test
  void haltWithAPendingFlush_sendsFlushVcpu_andAcksTheHaltAfterIt_laterRequestsFlushAtOnce() {
    start();
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    // a Q8 notifier: KVM_REQ_TLB_FLUSH pending, to be processed at the next guest entry
    shootdowns.tell(new HostMmu.TlbShootdown(2, ack.getRef(), true));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 2));
    host.expectNoMessage(Duration.ofMillis(50));
    vcpu.tell(new Vcpu.Halt(control.getRef()));
    // there is no next guest entry: the flush is sent now, not dropped
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    assertThat(f.vcpu()).isZero();
    control.expectNoMessage(Duration.ofMillis(50));
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 1, 2));
    control.expectMessage(new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED));
    // halted: a later flush request (a Q8 notifier's shootdown) is processed at once
    shootdowns.tell(new HostMmu.TlbShootdown(3, ack.getRef(), true));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 3));
    HostMmu.FlushVcpu f2 = host.expectMessageClass(HostMmu.FlushVcpu.class);
    shootdowns.tell(new HostMmu.TlbShootdown(4, ack.getRef(), true));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 4));
    host.expectNoMessage(Duration.ofMillis(50)); // one at a time
    f2.replyTo().tell(new HostMmu.Flushed(f2.requestId(), 0, 4));
    HostMmu.FlushVcpu f3 = host.expectMessageClass(HostMmu.FlushVcpu.class);
    assertThat(f3.requestId()).isNotEqualTo(f2.requestId());
    f3.replyTo().tell(new HostMmu.Flushed(f3.requestId(), 0, 4));
    host.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void haltWithoutAPendingFlush_isAcknowledgedAtOnce_withoutFlushVcpu() {
    start();
    vcpu.tell(new Vcpu.Halt(control.getRef()));
    control.expectMessage(new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED));
    host.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void shootdownRequestingAFlush_sendsFlushVcpuBeforeTheNextGuestEntry_notBefore() {
    start();
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    shootdowns.tell(new HostMmu.TlbShootdown(1, ack.getRef(), true)); // a Q8 notifier
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 1));
    host.expectNoMessage(Duration.ofMillis(50)); // idle: no guest entry yet
    run(1, load(EA));
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    guest.expectNoMessage(Duration.ofMillis(50));
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 3, 2));
    answerVsid(ESID, GVSID);
    HostMmu.Lookup l = host.expectMessageClass(HostMmu.Lookup.class);
    l.replyTo().tell(new HostMmu.LookedUp(l.requestId(), 1, Lookup.HIT_RO, 4, 2));
    assertThat(done().completed()).isEqualTo(1);
    TestProbe<Vcpu.StatusReport> status = kit.createTestProbe();
    vcpu.tell(new Vcpu.GetCounters(status.getRef()));
    Vcpu.StatusReport st = status.receiveMessage();
    assertThat(st.state()).isEqualTo(Vcpu.VcpuState.IDLE);
    assertThat(st.knownEpoch()).isEqualTo(2);
    assertThat(st.outstandingBatches()).isZero();
  }

  @Test
  void mmioExit_completesTheAccess_andReleasesTheLease() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.NOSLOT, -1, false, 5), 31));
    assertThat(frames.expectMessageClass(PageFrame.ReleaseLease.class).lease()).isEqualTo(31);
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.MMIO_EXITS)).isEqualTo(1);
    host.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void q7MapFailures_resumeAndRefault_untilTheLivelockBoundFailsTheAccess() {
    start(); // maxFaultsPerAccess = 4
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    for (int i = 0; i < 4; i++) {
      answerLookup(-1, Lookup.MISS, -1, 1);
      answerXlate(Access.LOAD, ok(false));
      PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
      g.replyTo()
          .tell(
              new PageFrame.PfnAnswered(
                  g.requestId(), new PfnResult(PfnStatus.FAULT, -1, false, 5), 40 + i));
      if (i > 0) {
        expectRelease(40 + i - 1); // the previous fault's, replaced by this one's
      }
    }
    answerLookup(-1, Lookup.MISS, -1, 1);
    expectRelease(43); // the access failed
    Vcpu.BatchDone d = done();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures().get(0)).endsWith("livelock: more than 4 faults");
    assertThat(d.counters().get(Counter.MAP_FAILURES)).isEqualTo(4);
    assertThat(d.counters().get(Counter.NOHPTE_EXITS)).isEqualTo(4);
    guest.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void badEntityId_givesAVcpuThatRejectsEveryCommand() {
    ActorRef<Vcpu.Command> bad =
        kit.spawn(
            VcpuSharding.forEntity(
                "vm-1",
                (v, n) -> setup(1),
                v -> guest.getRef(),
                v -> host.getRef(),
                v -> frames.getRef()));
    bad.tell(new Vcpu.RunBatch(1, List.of(load(EA)), batches.getRef()));
    assertThat(batches.expectMessageClass(Vcpu.Rejected.class).reason())
        .startsWith("vm-1: entityId: 'vm-1' is not a vCPU entity id");
    bad.tell(new Vcpu.Halt(control.getRef()));
    control.expectMessageClass(Vcpu.Rejected.class);
  }

  @Test
  void staleLookupEpoch_resubscribesAndLooksUpAgain() {
    start();
    shootdowns.tell(new HostMmu.TlbShootdown(4, host.getRef().narrow()));
    host.expectMessageClass(HostMmu.TlbShootdownAck.class);
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RO, 77, 1); // epoch 1 < 4: a restarted host MMU
    HostMmu.SubscribeTlb sub = host.expectMessageClass(HostMmu.SubscribeTlb.class);
    assertThat(sub.knownEpoch()).isEqualTo(4);
    answerLookup(3, Lookup.HIT_RO, 77, 5);
    assertThat(done().completed()).isEqualTo(1);
  }

  @Test
  void storeBufferFull_isFlushedMidBatch_andWaitsForRoomWhileAFlushIsInFlight() {
    start();
    run(1, store(EA, 1));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RW, 50, 1);
    PageFrame.ApplyStores first = stores.expectMessageClass(PageFrame.ApplyStores.class);
    // 9 TLB-hit stores: the buffer (4) fills while the first flush is still in flight
    AccessOp[] ops = new AccessOp[9];
    for (int i = 0; i < ops.length; i++) {
      ops[i] = store(EA + 8 * i, 100 + i);
    }
    run(2, ops);
    stores.expectNoMessage(Duration.ofMillis(50));
    first.replyTo().tell(new PageFrame.StoresDone(first.requestId(), 1, 0));
    PageFrame.ApplyStores a = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(a.values()).containsExactly(100L, 101L, 102L, 103L);
    assertThat(done().batchId()).isEqualTo(1);
    a.replyTo().tell(new PageFrame.StoresDone(a.requestId(), 4, 0));
    PageFrame.ApplyStores b = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(b.values()).containsExactly(104L, 105L, 106L, 107L);
    b.replyTo().tell(new PageFrame.StoresDone(b.requestId(), 3, 1));
    PageFrame.ApplyStores c = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(c.values()).containsExactly(108L);
    batches.expectNoMessage(Duration.ofMillis(50));
    c.replyTo().tell(new PageFrame.StoresDone(c.requestId(), 1, 0));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(9);
    assertThat(d.counters().get(Counter.TLB_HITS)).isEqualTo(9);
    assertThat(d.counters().get(Counter.STORES_LOST)).isEqualTo(1);
  }

  /** Answers a NOHPTE load fault's xlate (C clear), gfn-to-pfn and map with a writable map. */
  private void noHpteLoadFaultMappedWritable(long lease) {
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.OK, 77, true, 5), lease));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    assertThat(m.writable()).isTrue();
    m.replyTo().tell(new HostMmu.Mapped(m.requestId(), true, false, true, 1));
  }

  @Test
  void notifierFlushRequest_duringAFault_isAckedAtOnce_andFlushVcpuPrecedesTheRetry() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    // the gfn-to-pfn's COW emits a notifier: Q8's kvm_flush_remote_tlbs reaches the vCPU mid-fault
    shootdowns.tell(new HostMmu.TlbShootdown(2, host.getRef().narrow(), true));
    assertThat(host.expectMessageClass(HostMmu.TlbShootdownAck.class))
        .isEqualTo(new HostMmu.TlbShootdownAck(0, 2));
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.OK, 77, true, 5, true), 3));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    m.replyTo().tell(new HostMmu.Mapped(m.requestId(), true, false, true, 2));
    // guest entry after the exit: the pending flush goes out before the access is retried
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    assertThat(f.vcpu()).isZero();
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 1, 3));
    HostMmu.Lookup retry = host.expectMessageClass(HostMmu.Lookup.class);
    retry.replyTo().tell(new HostMmu.LookedUp(retry.requestId(), -1, Lookup.MISS, -1, 3));
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g2 = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g2.replyTo()
        .tell(
            new PageFrame.PfnAnswered(g2.requestId(), new PfnResult(PfnStatus.OK, 77, true, 5), 4));
    expectRelease(3); // the first fault's lease, kept through its retry until this answer
    HostMmu.MapPage m2 = host.expectMessageClass(HostMmu.MapPage.class);
    m2.replyTo().tell(new HostMmu.Mapped(m2.requestId(), true, false, true, 3));
    answerLookup(3, Lookup.HIT_RW, 77, 3);
    expectRelease(4);
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.NOHPTE_EXITS)).isEqualTo(2);
    host.expectNoMessage(Duration.ofMillis(20)); // one flush only: the request was served
  }

  /**
   * One NOHPTE load fault answered with frame 77 (COW broken if {@code cow}) whose retry is
   * preceded by a Q8 flush request (another notifier, or this fault's own COW break): the flush
   * goes out at the guest entry, and the retry misses.
   */
  private void faultFlushedBeforeItsRetry(long lease, boolean cow, long epoch) {
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.OK, 77, false, 5, cow), lease));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    shootdowns.tell(new HostMmu.TlbShootdown(epoch, host.getRef().narrow(), true));
    assertThat(host.expectMessageClass(HostMmu.TlbShootdownAck.class).epoch()).isEqualTo(epoch);
    m.replyTo().tell(new HostMmu.Mapped(m.requestId(), true, true, false, epoch));
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 1, epoch));
    answerLookup(-1, Lookup.MISS, -1, epoch);
  }

  @Test
  void faultsForcedByAnotherNotifiersFlush_doNotCountTowardTheLivelockBound() {
    start(); // maxFaultsPerAccess = 4
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    for (int i = 0; i < 8; i++) {
      faultFlushedBeforeItsRetry(50 + i, false, 2 + i);
      if (i > 0) {
        expectRelease(50 + i - 1);
      }
    }
    // the ninth fault is left alone: its retry hits
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.OK, 77, false, 5), 58));
    expectRelease(57);
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    m.replyTo().tell(new HostMmu.Mapped(m.requestId(), true, true, false, 9));
    answerLookup(3, Lookup.HIT_RO, 77, 9);
    expectRelease(58);
    Vcpu.BatchDone d = done();
    assertThat(d.failed()).as(d.failures().toString()).isZero();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.NOHPTE_EXITS)).isEqualTo(9);
  }

  @Test
  void faultsFlushedByTheirOwnCowBreak_countTowardTheLivelockBound() {
    start(); // maxFaultsPerAccess = 4
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    for (int i = 0; i < 4; i++) {
      faultFlushedBeforeItsRetry(60 + i, true, 2 + i);
      if (i > 0) {
        expectRelease(60 + i - 1);
      }
    }
    expectRelease(63); // the fifth fault fails the access before asking anything
    Vcpu.BatchDone d = done();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures().get(0)).endsWith("livelock: more than 4 faults");
    assertThat(d.counters().get(Counter.NOHPTE_EXITS)).isEqualTo(4);
  }

  @Test
  void mmioExit_withAPendingFlush_flushesAtTheGuestEntryAfterTheExit() {
    start();
    shootdowns.tell(new HostMmu.TlbShootdown(1, host.getRef().narrow(), true));
    host.expectMessageClass(HostMmu.TlbShootdownAck.class);
    run(1, load(EA));
    HostMmu.FlushVcpu f0 = host.expectMessageClass(HostMmu.FlushVcpu.class); // batch start
    f0.replyTo().tell(new HostMmu.Flushed(f0.requestId(), 0, 1));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    shootdowns.tell(new HostMmu.TlbShootdown(2, host.getRef().narrow(), true));
    host.expectMessageClass(HostMmu.TlbShootdownAck.class);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(
                g.requestId(), new PfnResult(PfnStatus.NOSLOT, -1, false, 5), 6));
    frames.expectMessageClass(PageFrame.ReleaseLease.class);
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 0, 2));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.MMIO_EXITS)).isEqualTo(1);
  }

  @Test
  void missedC_storesThroughAWatchedWritableMapping_readTheGuestC_andCountWhileItIsClear() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    noHpteLoadFaultMappedWritable(9); // writable map by a load, C clear: Q4 watch starts
    answerLookup(3, Lookup.HIT_RW, 77, 1);
    expectRelease(9);
    done();

    run(2, store(EA, 1));
    GuestMmu.ReadRc rc = guest.expectMessageClass(GuestMmu.ReadRc.class);
    assertThat(rc.ea()).isEqualTo(EA);
    batches.expectNoMessage(Duration.ofMillis(20)); // completed only after the verdict
    rc.replyTo().tell(new GuestMmu.RcOf(rc.requestId(), true, false));
    PageFrame.ApplyStores a = stores.expectMessageClass(PageFrame.ApplyStores.class);
    vcpu.tell(new Vcpu.StoresApplied(a.requestId(), 1, 0));
    assertThat(done().counters().get(Counter.MISSED_C)).isEqualTo(1);

    run(3, store(EA, 2), store(EA + 8, 3));
    GuestMmu.ReadRc rc2 = guest.expectMessageClass(GuestMmu.ReadRc.class);
    rc2.replyTo().tell(new GuestMmu.RcOf(rc2.requestId(), true, true)); // C set: watch ends
    PageFrame.ApplyStores a2 = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(a2.pfns()).hasSize(2); // the second store needed no read
    vcpu.tell(new Vcpu.StoresApplied(a2.requestId(), 2, 0));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(2);
    assertThat(d.counters().get(Counter.MISSED_C)).isEqualTo(1);
    assertThat(d.counters().get(Counter.TLB_HITS)).isEqualTo(3);
    guest.expectNoMessage(Duration.ofMillis(20));
  }

  @Test
  void hostMmuCoreFailureOnMap_failsTheAccessOnce_namingVcpuAndAddress() {
    start();
    run(1, load(EA));
    answerVsid(ESID, GVSID);
    answerLookup(-1, Lookup.MISS, -1, 1);
    answerXlate(Access.LOAD, ok(false));
    PageFrame.GfnToPfnProt g = frames.expectMessageClass(PageFrame.GfnToPfnProt.class);
    g.replyTo()
        .tell(
            new PageFrame.PfnAnswered(g.requestId(), new PfnResult(PfnStatus.OK, 77, true, 5), 8));
    HostMmu.MapPage m = host.expectMessageClass(HostMmu.MapPage.class);
    m.replyTo()
        .tell(
            new HostMmu.Failed(
                m.requestId(),
                "MapPage (vcpu 0, ea 0x10005010): java.lang.IllegalStateException: boom"));
    assertThat(frames.expectMessageClass(PageFrame.ReleaseLease.class).lease()).isEqualTo(8);
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isZero();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures())
        .singleElement()
        .asString()
        .startsWith("vm 0 vcpu 0 LOAD at 0x10005010")
        .contains("host MMU failed")
        .contains("boom");
    batches.expectNoMessage(Duration.ofMillis(20)); // reported once
  }

  /**
   * Q8 mid-batch (the MeshRandomizedTest defect): a flagged shootdown arrives while a Lookup is
   * outstanding; the HostMmu keeps the old HPTEs until this vCPU's FlushVcpu, so the reply (here a
   * writable hit on pfn 156, a frame KSM has since freed) must not be used: kvm_flush_remote_tlbs
   * kicked the vCPU out of the guest, and the next entry flushes before the access is looked up
   * again.
   */
  @Test
  void flaggedShootdownWhileALookupIsOutstanding_dropsTheReply_flushesThenLooksUpAgain() {
    start();
    run(1, store(EA, 7));
    answerVsid(ESID, GVSID);
    HostMmu.Lookup l = host.expectMessageClass(HostMmu.Lookup.class);
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    shootdowns.tell(new HostMmu.TlbShootdown(2, ack.getRef(), true));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 2));
    l.replyTo().tell(new HostMmu.LookedUp(l.requestId(), 3, Lookup.HIT_RW, 156, 2));
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    assertThat(f.vcpu()).isZero();
    stores.expectNoMessage(Duration.ofMillis(30)); // nothing stored through the stale HPTE
    host.expectNoMessage(Duration.ofMillis(10)); // no lookup before the flush is answered
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 1, 3));
    answerLookup(4, Lookup.HIT_RW, 200, 3);
    PageFrame.ApplyStores a = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(a.pfns()).containsExactly(200);
    assertThat(a.values()).containsExactly(7L);
    a.replyTo().tell(new PageFrame.StoresDone(a.requestId(), 1, 0));
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.HTAB_HITS)).isEqualTo(1);
    host.expectNoMessage(Duration.ofMillis(20)); // one flush only
  }

  /**
   * A flagged shootdown between two accesses of one batch (the vCPU waits at the boundary for room
   * in its store buffer): the next access is a guest entry, so FlushVcpu goes out and is answered
   * before that access runs.
   */
  @Test
  void flaggedShootdownBetweenTwoAccessesOfABatch_flushesBeforeTheNextAccess() {
    start();
    run(1, store(EA, 1));
    answerVsid(ESID, GVSID);
    answerLookup(3, Lookup.HIT_RW, 50, 1);
    PageFrame.ApplyStores first = stores.expectMessageClass(PageFrame.ApplyStores.class);
    // 5 TLB-hit stores: the fifth waits for room (buffer of 4, the first flush in flight)
    run(2, store(EA, 10), store(EA + 8, 11), store(EA + 16, 12), store(EA + 24, 13), load(EA));
    stores.expectNoMessage(Duration.ofMillis(30));
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    shootdowns.tell(new HostMmu.TlbShootdown(2, ack.getRef(), true));
    first.replyTo().tell(new PageFrame.StoresDone(first.requestId(), 1, 0));
    PageFrame.ApplyStores a = stores.expectMessageClass(PageFrame.ApplyStores.class);
    assertThat(a.values()).containsExactly(10L, 11L, 12L, 13L);
    a.replyTo().tell(new PageFrame.StoresDone(a.requestId(), 4, 0));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 2));
    assertThat(done().batchId()).isEqualTo(1);
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    host.expectNoMessage(Duration.ofMillis(30)); // the load waits for the flush
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 1, 3));
    answerLookup(4, Lookup.HIT_RO, 51, 3); // the TLB was emptied by the shootdown
    Vcpu.BatchDone d = done();
    assertThat(d.completed()).isEqualTo(5);
    assertThat(d.counters().get(Counter.TLB_HITS)).isEqualTo(4);
  }

  /**
   * A flagged shootdown while the vCPU asks the GuestMmu for a segment's VSID: the guest answer is
   * used, but the host HTAB search that follows waits for the flush.
   */
  @Test
  void flaggedShootdownWhileAVsidIsAsked_flushesBeforeTheLookup() {
    start();
    run(1, load(EA));
    GuestMmu.EsidToVsid e = guest.expectMessageClass(GuestMmu.EsidToVsid.class);
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    shootdowns.tell(new HostMmu.TlbShootdown(2, ack.getRef(), true));
    ack.expectMessage(new HostMmu.TlbShootdownAck(0, 2));
    e.replyTo().tell(new GuestMmu.VsidOf(e.requestId(), GVSID));
    HostMmu.FlushVcpu f = host.expectMessageClass(HostMmu.FlushVcpu.class);
    f.replyTo().tell(new HostMmu.Flushed(f.requestId(), 0, 2));
    answerLookup(3, Lookup.HIT_RO, 77, 2);
    assertThat(done().completed()).isEqualTo(1);
    guest.expectNoMessage(Duration.ofMillis(20)); // the VSID was not asked again
  }
}
