package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;
import org.mmumesh.pageframe.actor.PageFrame.Command;

/**
 * The PageFrame actor's flows (spec 5.1, 5.7, 8.8 TV61) on ManualTime: gfn-to-pfn rows with their
 * leases, replies held for notifier acks, memslot updates waiting for leases, lease expiry,
 * idempotent retries and rejections.
 */
class PageFrameTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration LEASE_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(2);
  private static final long A = 0x1234_5678_9ABC_DEF0L;

  private ActorRef<Command> pf;
  private TestProbe<PageFrame.PfnReply> pfn;
  private TestProbe<PageFrame.SlotReply> slot;
  private final ScriptedKsm ksm = new ScriptedKsm();
  private TestProbe<PageFrame.PopulateReply> pop;
  private TestProbe<PageFrame.StatsReply> stats;
  private long nextId = 1000;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /** VM 0 with memslot 0: gfn 0x100-0x13f on host pages 0-0x3f. */
  @BeforeEach
  void setUp() {
    pf = kit.spawn(PageFrame.create(PageFrame.Settings.defaults(), ksm.factory()));
    pfn = kit.createTestProbe();
    slot = kit.createTestProbe();
    pop = kit.createTestProbe();
    stats = kit.createTestProbe();
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    pf.tell(new PageFrame.CreateVm(1, 0, vm.getRef()));
    vm.expectMessage(new PageFrame.VmCreated(1, 0));
    pf.tell(new PageFrame.AddSlot(2, 0, 0, 0x100, 64, 0, false, slot.getRef()));
    assertThat(slot.expectMessageClass(PageFrame.SlotAdded.class).requestId()).isEqualTo(2);
  }

  private PageFrame.PfnAnswered fault(int vcpu, long gfn, boolean write) {
    long id = nextId++;
    pf.tell(new PageFrame.GfnToPfnProt(id, 0, vcpu, gfn, write, pfn.getRef()));
    PageFrame.PfnAnswered a = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    assertThat(a.requestId()).isEqualTo(id);
    return a;
  }

  private PageFrame.PfnAnswered faultAndRelease(int vcpu, long gfn, boolean write) {
    PageFrame.PfnAnswered a = fault(vcpu, gfn, write);
    pf.tell(new PageFrame.ReleaseLease(0, a.lease()));
    return a;
  }

  private PageFrame.StatsReply stats() {
    pf.tell(new PageFrame.GetStats(stats.getRef()));
    return stats.receiveMessage();
  }

  /** One KSM page operation, through ksmd's real path (a KsmScan batch on the PageFrame). */
  private boolean ksmOp(java.util.function.Predicate<PageFrames> step) {
    return ksm.run(kit, pf, step);
  }

  private void populate(long gfn, long fingerprint) {
    long id = nextId++;
    pf.tell(new PageFrame.Populate(id, 0, gfn, fingerprint, pop.getRef()));
    pop.expectMessage(new PageFrame.Populated(id));
  }

  private void assertInvariants() {
    TestProbe<PageFrame.InvariantsReply> inv = kit.createTestProbe();
    pf.tell(new PageFrame.CheckInvariants(inv.getRef()));
    assertThat(inv.receiveMessage().violations()).isEmpty();
  }

  // ---- spec 5.1 rows -----------------------------------------------------------------------

  @Test
  void neverTouched_readMapsZeroPageReadOnly_writeAllocatesPrivate_eachUnderALease() {
    PageFrame.PfnAnswered r = fault(0, 0x105, false);
    assertThat(r.result())
        .isEqualTo(
            new PfnResult(PfnStatus.OK, PageFrames.ZERO_PFN, false, r.result().notifierSeq()));
    PageFrame.PfnAnswered w = fault(1, 0x106, true);
    assertThat(w.result().status()).isEqualTo(PfnStatus.OK);
    assertThat(w.result().pfn()).isNotEqualTo(PageFrames.ZERO_PFN);
    assertThat(w.result().writable()).isTrue();
    assertThat(w.lease()).isNotEqualTo(r.lease());

    PageFrame.StatsReply s = stats();
    assertThat(s.counters())
        .containsEntry("ZERO_PAGE_MAPS", 1L)
        .containsEntry("FRESH_ALLOCATIONS", 1L)
        .containsEntry("LEASES_GRANTED", 2L);
    assertThat(s.leasesHeld()).containsEntry(0, 2);
    pf.tell(new PageFrame.ReleaseLease(0, r.lease()));
    pf.tell(new PageFrame.ReleaseLease(0, w.lease()));
    assertThat(stats().leasesHeld()).containsEntry(0, 0);
    assertInvariants();
  }

  @Test
  void ksmPage_readMapsSharedFrameReadOnly_writeBreaksCowToPrivateCopy_TV33_TV34() {
    populate(0x110, A);
    populate(0x111, A);
    int p0 = faultAndRelease(0, 0x110, false).result().pfn();
    int p1 = faultAndRelease(0, 0x111, false).result().pfn();
    assertThat(p0).isNotEqualTo(p1);
    assertThat(ksmOp(c -> c.writeProtectPage(0, 0x10, p0))).isTrue();
    assertThat(ksmOp(c -> ScriptedKsm.makeKsmPage(c, 0, 0x10, p0))).isTrue();
    assertThat(ksmOp(c -> c.writeProtectPage(0, 0x11, p1))).isTrue();
    assertThat(ksmOp(c -> c.replacePage(0, 0x11, p1, p0))).isTrue();
    assertThat(stats().counters()).containsEntry("FRAMES_SAVED_BY_KSM", 1L);

    PageFrame.PfnAnswered r = faultAndRelease(0, 0x111, false);
    assertThat(r.result().pfn()).isEqualTo(p0);
    assertThat(r.result().writable()).isFalse();
    assertThat(stats().counters()).containsEntry("COW_KSM", 0L);

    PageFrame.PfnAnswered w = faultAndRelease(0, 0x111, true);
    assertThat(w.result().pfn())
        .isNotIn(p0, PageFrames.ZERO_PFN); // p1 was freed by the merge and may be reused
    assertThat(w.result().writable()).isTrue();
    PageFrame.StatsReply s = stats();
    assertThat(s.counters())
        .containsEntry("COW_KSM", 1L)
        .containsEntry("COW_BREAKS", 1L)
        .containsEntry("FRAMES_SAVED_BY_KSM", 0L);
    // a KSM op on a page that moved on is refused by the core, not failed
    assertThat(ksmOp(c -> ScriptedKsm.makeKsmPage(c, 0, 0x11, p1))).isFalse();
    assertInvariants();
  }

  @Test
  void noSlot_isAnsweredNoslot_withALeaseToRelease() {
    PageFrame.PfnAnswered a = fault(0, 0x5000, false);
    assertThat(a.result().status()).isEqualTo(PfnStatus.NOSLOT);
    assertThat(a.result().pfn()).isEqualTo(-1);
    assertThat(stats().leasesHeld()).containsEntry(0, 1);
    pf.tell(new PageFrame.ReleaseLease(0, a.lease()));
    assertThat(stats().leasesHeld()).containsEntry(0, 0);
  }

  // ---- MMU notifier (spec 5.7) ------------------------------------------------------------

  @Test
  void cowBreak_answerWithheldUntilSubscriberAcks_andLaterRequestsWaitInOrder() {
    TestProbe<PageFrame.NotifierEvent> hostMmu = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, hostMmu.getRef()));
    PageFrame.PfnAnswered zero = faultAndRelease(0, 0x120, false); // zero page, no event
    hostMmu.expectNoMessage(Duration.ZERO);

    pf.tell(new PageFrame.GfnToPfnProt(50, 0, 0, 0x120, true, pfn.getRef()));
    PageFrame.NotifierEvent ev = hostMmu.receiveMessage();
    assertThat(ev.vm()).isZero();
    assertThat(ev.gfnStart()).isEqualTo(0x120);
    assertThat(ev.gfnEnd()).isEqualTo(0x121);
    assertThat(ev.notifierSeq()).isEqualTo(zero.result().notifierSeq() + 1);
    // a later request from another vCPU is stashed behind the round
    pf.tell(new PageFrame.GfnToPfnProt(51, 0, 1, 0x121, false, pfn.getRef()));
    time.expectNoMessageFor(Duration.ofMillis(500), pfn);

    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    PageFrame.PfnAnswered w = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    assertThat(w.requestId()).isEqualTo(50);
    assertThat(w.result().pfn()).isNotEqualTo(PageFrames.ZERO_PFN);
    assertThat(w.result().writable()).isTrue();
    // the guard value is the sequence read before the COW bumped it
    assertThat(w.result().notifierSeq()).isEqualTo(ev.notifierSeq() - 1);
    assertThat(pfn.expectMessageClass(PageFrame.PfnAnswered.class).requestId()).isEqualTo(51);

    // the next lookup reads the sequence the COW left (the guard value of a later fault)
    assertThat(faultAndRelease(2, 0x122, false).result().notifierSeq()).isEqualTo(ev.notifierSeq());
    assertThat(stats().counters())
        .containsEntry("ZERO_PAGE_COW", 1L)
        .containsEntry("NOTIFIER_ROUNDS", 1L)
        .doesNotContainKey("NOTIFIER_ACK_TIMEOUTS");
  }

  @Test
  void unackedNotifier_answersAtTheTimeout_andCountsIt() {
    TestProbe<PageFrame.NotifierEvent> silent = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, silent.getRef()));
    faultAndRelease(0, 0x120, false);
    pf.tell(new PageFrame.GfnToPfnProt(60, 0, 0, 0x120, true, pfn.getRef()));
    silent.receiveMessage();
    time.expectNoMessageFor(ACK_TIMEOUT.minusMillis(1), pfn);
    time.timePasses(Duration.ofMillis(1));
    assertThat(pfn.expectMessageClass(PageFrame.PfnAnswered.class).requestId()).isEqualTo(60);
    assertThat(stats().counters())
        .containsEntry("NOTIFIER_ACK_TIMEOUTS", 1L)
        .containsEntry("NOTIFIER_ACKS_MISSING", 1L);
  }

  @Test
  void noSubscriber_cowIsAnsweredAtOnce() {
    faultAndRelease(0, 0x120, false);
    PageFrame.PfnAnswered w = fault(0, 0x120, true);
    assertThat(w.result().writable()).isTrue();
    assertThat(stats().counters()).doesNotContainKey("NOTIFIER_ROUNDS");
  }

  // ---- memslot updates and leases (spec 8.8 TV61) -----------------------------------------

  @Test
  void removeSlot_repliesOnlyAfterAnEarlierLeaseIsReleased_andLookupsSeeNoslotAtOnce_TV61() {
    TestProbe<PageFrame.NotifierEvent> hostMmu = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, hostMmu.getRef()));
    PageFrame.PfnAnswered inFlight = fault(0, 0x100, true); // vcpu 0 mid-fault, lease held

    pf.tell(new PageFrame.RemoveSlot(70, 0, 0, slot.getRef()));
    PageFrame.NotifierEvent ev = hostMmu.receiveMessage();
    assertThat(ev.gfnStart()).isEqualTo(0x100);
    assertThat(ev.gfnEnd()).isEqualTo(0x140);
    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));

    // published: a lookup after the removal sees no slot (and its lease does not hold us up)
    PageFrame.PfnAnswered after = fault(1, 0x100, false);
    assertThat(after.result().status()).isEqualTo(PfnStatus.NOSLOT);
    assertThat(inFlight.result().notifierSeq()).isLessThan(ev.notifierSeq());
    time.expectNoMessageFor(Duration.ofSeconds(1), slot);

    pf.tell(new PageFrame.ReleaseLease(0, inFlight.lease()));
    PageFrame.SlotUpdateCompleted done =
        slot.expectMessageClass(PageFrame.SlotUpdateCompleted.class);
    assertThat(done.requestId()).isEqualTo(70);
    pf.tell(new PageFrame.ReleaseLease(0, after.lease()));
    assertThat(stats().counters()).containsEntry("SLOT_UPDATES_WAITED", 1L);
    assertInvariants();
  }

  @Test
  void removeSlot_withNoLeaseHeld_completesAtOnce_retryIsRemembered_andReAddMovesIt() {
    pf.tell(new PageFrame.RemoveSlot(80, 0, 0, slot.getRef()));
    PageFrame.SlotUpdateCompleted done =
        slot.expectMessageClass(PageFrame.SlotUpdateCompleted.class);
    pf.tell(new PageFrame.RemoveSlot(80, 0, 0, slot.getRef()));
    slot.expectMessage(done);
    // the API's memslot move (KVM_MR_MOVE) is a removal and an add at the new base
    pf.tell(new PageFrame.AddSlot(81, 0, 0, 0x1000, 64, 0, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
    assertThat(fault(0, 0x1000, false).result().status()).isEqualTo(PfnStatus.OK);
    assertThat(fault(1, 0x100, false).result().status()).isEqualTo(PfnStatus.NOSLOT);
  }

  @Test
  void unreleasedLease_isReleasedAtTheTimeout_unblockingTheRemoval_andCounted() {
    PageFrame.PfnAnswered crashed = fault(3, 0x100, false); // never released
    pf.tell(new PageFrame.RemoveSlot(90, 0, 0, slot.getRef()));
    time.expectNoMessageFor(LEASE_TIMEOUT.minusMillis(1), slot);
    time.timePasses(Duration.ofMillis(1));
    assertThat(slot.expectMessageClass(PageFrame.SlotUpdateCompleted.class).requestId())
        .isEqualTo(90);
    // the late release is harmless
    pf.tell(new PageFrame.ReleaseLease(0, crashed.lease()));
    PageFrame.StatsReply s = stats();
    assertThat(s.counters())
        .containsEntry("LEASES_EXPIRED", 1L)
        .containsEntry("LEASE_RELEASES_UNKNOWN", 1L)
        .doesNotContainKey("LEASES_RELEASED");
    assertThat(s.leasesHeld()).containsEntry(0, 0);
  }

  @Test
  void leaseGrantedWhileTheLeaseTickRuns_expiresAtMostOneTickAfterTheTimeout_neverBefore() {
    // default tick: a tenth of the 10 s lease timeout
    assertThat(PageFrame.Settings.defaults().leaseTick()).isEqualTo(Duration.ofSeconds(1));
    fault(3, 0x100, false); // starts the tick: expires at exactly 10 s
    time.timePasses(Duration.ofMillis(500));
    fault(4, 0x101, false); // tick phase unknown to the actor: expires at the 11th tick (11 s)
    pf.tell(new PageFrame.RemoveSlot(91, 0, 0, slot.getRef()));
    time.expectNoMessageFor(Duration.ofMillis(9_500), slot); // 10 s: the first lease expired
    assertThat(stats().counters()).containsEntry("LEASES_EXPIRED", 1L);
    time.expectNoMessageFor(Duration.ofMillis(999), slot); // 10.999 s: the second held
    time.timePasses(Duration.ofMillis(1)); // 11 s
    assertThat(slot.expectMessageClass(PageFrame.SlotUpdateCompleted.class).requestId())
        .isEqualTo(91);
    assertThat(stats().counters()).containsEntry("LEASES_EXPIRED", 2L);
    // the tick stopped with no lease held; a new lease restarts it with a known phase
    time.timePasses(Duration.ofMillis(300));
    pf.tell(new PageFrame.AddSlot(92, 0, 1, 0x100, 64, 0, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
    fault(5, 0x100, false);
    time.timePasses(Duration.ofMillis(9_999));
    assertThat(stats().counters()).containsEntry("LEASES_EXPIRED", 2L);
    time.timePasses(Duration.ofMillis(1));
    assertThat(stats().counters()).containsEntry("LEASES_EXPIRED", 3L);
  }

  @Test
  void leaseTickSetting_isValidated_namingTheFieldAndRange() {
    Duration ten = Duration.ofSeconds(10);
    assertThatThrownBy(() -> new PageFrame.Settings(ten, ten, 1, 1, 1, Duration.ofSeconds(11)))
        .hasMessageStartingWith(
            "leaseTick: PT11S is out of range; allowed > 0 and at most leaseTimeout");
    assertThatThrownBy(() -> new PageFrame.Settings(ten, ten, 1, 1, 1, Duration.ZERO))
        .hasMessageStartingWith("leaseTick");
    assertThat(PageFrame.Settings.defaultLeaseTick(Duration.ofMillis(5)))
        .isEqualTo(Duration.ofMillis(1));
    assertThat(PageFrame.Settings.defaultLeaseTick(Duration.ofNanos(500)))
        .isEqualTo(Duration.ofNanos(500));
  }

  // ---- idempotency -------------------------------------------------------------------------

  @Test
  void retriedGfnToPfnProt_returnsRememberedReply_withoutSecondLeaseOrSecondCow() {
    faultAndRelease(0, 0x120, false); // zero page mapped
    pf.tell(new PageFrame.GfnToPfnProt(7, 0, 2, 0x120, true, pfn.getRef()));
    PageFrame.PfnAnswered first = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.GfnToPfnProt(7, 0, 2, 0x120, true, pfn.getRef()));
    pfn.expectMessage(first);
    PageFrame.StatsReply s = stats();
    assertThat(s.counters())
        .containsEntry("COW_BREAKS", 1L)
        .containsEntry("LEASES_GRANTED", 2L)
        .containsEntry("RETRIES_ANSWERED", 1L);
    assertThat(s.leasesHeld()).containsEntry(0, 1);
    // the same request id from another vCPU is another request
    pf.tell(new PageFrame.GfnToPfnProt(7, 0, 3, 0x120, false, pfn.getRef()));
    PageFrame.PfnAnswered other = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    assertThat(other.lease()).isNotEqualTo(first.lease());
    assertThat(other.result().pfn()).isEqualTo(first.result().pfn());
  }

  @Test
  void retriedManagementCommands_areAnsweredFromMemory_notAppliedTwice() {
    pf.tell(new PageFrame.AddSlot(2, 0, 0, 0x100, 64, 0, false, slot.getRef()));
    assertThat(slot.expectMessageClass(PageFrame.SlotAdded.class).requestId()).isEqualTo(2);
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    pf.tell(new PageFrame.CreateVm(1, 0, vm.getRef()));
    vm.expectMessage(new PageFrame.VmCreated(1, 0));
    populate(0x130, A);
    pf.tell(new PageFrame.Populate(nextId - 1, 0, 0x130, A, pop.getRef()));
    pop.expectMessage(new PageFrame.Populated(nextId - 1));
    assertThat(stats().counters())
        .containsEntry("RETRIES_ANSWERED", 3L)
        .containsEntry("MAPPED_PAGES", 1L)
        .doesNotContainKey("REJECTED");
  }

  // ---- rejections --------------------------------------------------------------------------

  @Test
  void badInput_isRejectedNamingTheField_andChangesNothing() {
    pf.tell(new PageFrame.GfnToPfnProt(1, 7, 0, 0x100, false, pfn.getRef()));
    assertThat(pfn.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("vm: 7 does not exist");
    pf.tell(new PageFrame.GfnToPfnProt(2, -1, 0, 0x100, false, pfn.getRef()));
    assertThat(pfn.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("vm: -1")
        .contains("allowed 0 to 65535");
    pf.tell(new PageFrame.GfnToPfnProt(3, 0, 5000, 0x100, false, pfn.getRef()));
    assertThat(pfn.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("vcpu: 5000")
        .contains("allowed 0 to 4095");
    pf.tell(new PageFrame.GfnToPfnProt(4, 0, 0, -5, false, pfn.getRef()));
    assertThat(pfn.expectMessageClass(PageFrame.Rejected.class).reason()).startsWith("gfn");

    pf.tell(new PageFrame.AddSlot(5, 0, 1, 0x13f, 4, 0x100, false, slot.getRef()));
    PageFrame.Rejected overlap = slot.expectMessageClass(PageFrame.Rejected.class);
    assertThat(overlap.requestId()).isEqualTo(5);
    assertThat(overlap.reason()).contains("overlaps memslot 0").contains("0x100-0x13f");
    pf.tell(new PageFrame.AddSlot(6, 0, 600, 0x1000, 4, 0x100, false, slot.getRef()));
    assertThat(slot.expectMessageClass(PageFrame.Rejected.class).reason()).startsWith("slotId");
    pf.tell(new PageFrame.RemoveSlot(7, 0, 9, slot.getRef()));
    assertThat(slot.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("slotId: 9 does not exist");

    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    pf.tell(new PageFrame.CreateVm(8, 0, vm.getRef()));
    assertThat(vm.expectMessageClass(PageFrame.Rejected.class).reason()).contains("already exists");
    pf.tell(new PageFrame.Populate(9, 0, 0x9000, A, pop.getRef()));
    assertThat(pop.expectMessageClass(PageFrame.Rejected.class).reason())
        .contains("not in any memslot");
    TestProbe<PageFrame.FramesReply> word = kit.createTestProbe(); // read-only, handled at once
    pf.tell(new PageFrame.ReadWord(10, 3, 0, 0, word.getRef()));
    assertThat(word.expectMessageClass(PageFrame.Rejected.class).reason()).startsWith("vm: 3");

    PageFrame.StatsReply s = stats();
    assertThat(s.counters())
        .containsEntry("REJECTED", 10L)
        .containsEntry("MAPPED_PAGES", 0L)
        .doesNotContainKey("LEASES_GRANTED");
    assertThat(s.leasesHeld()).containsEntry(0, 0);
    // a rejection is not remembered: the corrected request with the same id goes through
    pf.tell(new PageFrame.AddSlot(5, 0, 1, 0x140, 4, 0x100, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
  }

  @Test
  void retriedRemoveSlot_whileWaitingForALease_isAnsweredOnceTheUpdateCompletes() {
    PageFrame.PfnAnswered held = fault(0, 0x100, false);
    TestProbe<PageFrame.SlotReply> retry = kit.createTestProbe();
    pf.tell(new PageFrame.RemoveSlot(95, 0, 0, slot.getRef()));
    pf.tell(new PageFrame.RemoveSlot(95, 0, 0, retry.getRef()));
    time.expectNoMessageFor(Duration.ofMillis(100), slot, retry);
    pf.tell(new PageFrame.ReleaseLease(0, held.lease()));
    PageFrame.SlotUpdateCompleted done =
        slot.expectMessageClass(PageFrame.SlotUpdateCompleted.class);
    retry.expectMessage(done);
    // and a retry after completion gets the remembered reply, not "does not exist"
    pf.tell(new PageFrame.RemoveSlot(95, 0, 0, retry.getRef()));
    retry.expectMessage(done);
  }

  @Test
  void fullStash_rejectsFurtherRequests_whileANotifierRoundIsInFlight() {
    ActorRef<Command> small =
        kit.spawn(PageFrame.create(new PageFrame.Settings(LEASE_TIMEOUT, ACK_TIMEOUT, 1, 16, 64)));
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    small.tell(new PageFrame.CreateVm(1, 0, vm.getRef()));
    vm.expectMessageClass(PageFrame.VmCreated.class);
    small.tell(new PageFrame.AddSlot(2, 0, 0, 0x100, 64, 0, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
    TestProbe<PageFrame.NotifierEvent> hostMmu = kit.createTestProbe();
    small.tell(new PageFrame.SubscribeNotifier(0, hostMmu.getRef()));
    small.tell(new PageFrame.GfnToPfnProt(3, 0, 0, 0x100, false, pfn.getRef()));
    pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    small.tell(new PageFrame.GfnToPfnProt(4, 0, 0, 0x100, true, pfn.getRef())); // zero-page COW
    PageFrame.NotifierEvent ev = hostMmu.receiveMessage();
    small.tell(new PageFrame.GfnToPfnProt(5, 0, 1, 0x101, false, pfn.getRef())); // stashed
    small.tell(new PageFrame.GfnToPfnProt(6, 0, 2, 0x102, false, pfn.getRef())); // full
    PageFrame.Rejected r = pfn.expectMessageClass(PageFrame.Rejected.class);
    assertThat(r.requestId()).isEqualTo(6);
    assertThat(r.reason()).startsWith("stash: full");
    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    assertThat(pfn.expectMessageClass(PageFrame.PfnAnswered.class).requestId()).isEqualTo(4);
    assertThat(pfn.expectMessageClass(PageFrame.PfnAnswered.class).requestId()).isEqualTo(5);
  }
}
