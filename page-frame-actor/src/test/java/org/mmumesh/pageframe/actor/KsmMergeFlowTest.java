package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.ksm.KsmFrameScanner;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrames;

/**
 * ksmd in the real PageFrame (with {@link KsmFrameScanner}) merging guest pages through the one KSM
 * protocol: the same counters as the sequential {@link KsmScanner} on an equal core (lockstep
 * passes, single wake-ups and the timer), the handshake holding merges back until the host MMUs
 * acknowledge, a store before the acknowledgement preventing the merge, and {@code run=2}
 * unmerging.
 */
class KsmMergeFlowTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration QUIET = Duration.ofMillis(200);
  private static final int PAGES = 8;
  private static final long A = 0x5EED_0000_0000_0001L;

  private long nextId = 1;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /** A host MMU that acknowledges every notifier event at once. */
  private static Behavior<PageFrame.NotifierEvent> autoAck() {
    return Behaviors.receive(PageFrame.NotifierEvent.class)
        .onAnyMessage(
            ev -> {
              ev.replyTo().tell(new PageFrame.NotifierAck(ev.vm(), ev.notifierSeq()));
              return Behaviors.same();
            })
        .build();
  }

  /** Content of page g of every VM: equal across VMs, distinct within one. */
  private static long content(int g) {
    return A + g;
  }

  private ActorRef<PageFrame.Command> host(int vms, int pages) {
    ActorRef<PageFrame.Command> pf =
        kit.spawn(PageFrame.create(PageFrame.Settings.defaults(), KsmFrameScanner.factory()));
    TestProbe<Object> r = kit.createTestProbe();
    for (int v = 0; v < vms; v++) {
      pf.tell(new PageFrame.CreateVm(nextId++, v, r.getRef().narrow()));
      r.expectMessageClass(PageFrame.VmCreated.class);
      pf.tell(new PageFrame.AddSlot(nextId++, v, 0, 0, pages, 0, false, r.getRef().narrow()));
      r.expectMessageClass(PageFrame.SlotAdded.class);
      for (int g = 0; g < pages; g++) {
        pf.tell(new PageFrame.Populate(nextId++, v, g, content(g), r.getRef().narrow()));
        r.expectMessageClass(PageFrame.Populated.class);
      }
    }
    return pf;
  }

  /** The sequential reference: an equal core scanned by the synchronous scanner. */
  private static KsmScanner sequential(int vms, int pages) {
    PageFrames pf = new PageFrames();
    KsmScanner k = new KsmScanner(pf);
    for (int v = 0; v < vms; v++) {
      pf.createVm(v);
      pf.addSlot(v, 0, 0, pages, 0, false);
      for (int g = 0; g < pages; g++) {
        pf.populate(v, g, content(g));
      }
      k.madviseMergeable(v, 0, pages);
    }
    k.setRun(KsmScanner.RUN_MERGE);
    return k;
  }

  private void control(
      ActorRef<PageFrame.Command> pf,
      BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> c) {
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    long id = nextId++;
    pf.tell(c.apply(id, r.getRef()));
    r.expectMessage(new PageFrame.KsmControlDone(id));
  }

  private Map<String, Long> counters(ActorRef<PageFrame.Command> pf) {
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.GetKsmCounters(nextId++, r.getRef()));
    PageFrame.KsmCounters c = r.expectMessageClass(PageFrame.KsmCounters.class);
    assertThat(c.violations()).isEmpty();
    return c.counters();
  }

  private long stat(ActorRef<PageFrame.Command> pf, String name) {
    TestProbe<PageFrame.StatsReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.GetStats(r.getRef()));
    return r.receiveMessage().counters().getOrDefault(name, 0L);
  }

  private void assertInvariants(ActorRef<PageFrame.Command> pf) {
    TestProbe<PageFrame.InvariantsReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.CheckInvariants(r.getRef()));
    assertThat(r.receiveMessage().violations()).isEmpty();
  }

  /** Kernel counters of the actors' reply that the sequential scanner also has. */
  private static Map<String, Long> kernelCounters(Map<String, Long> all) {
    Map<String, Long> k = new java.util.LinkedHashMap<>();
    for (String key : KsmFrameScanner.countersOf(sequential(1, 1)).keySet()) {
      k.put(key, all.get(key));
    }
    return k;
  }

  /** Marks the VMs' pages mergeable (MADV_MERGEABLE). */
  private void madvise(ActorRef<PageFrame.Command> pf, int vms, int pages) {
    for (int v = 0; v < vms; v++) {
      int vm = v;
      control(pf, (id, r) -> new PageFrame.KsmMadvise(id, vm, 0, pages, true, r));
    }
  }

  private static BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> run(int run) {
    return (id, r) -> new PageFrame.KsmSetRun(id, run, r);
  }

  private static BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> pages(long n) {
    return (id, r) -> new PageFrame.KsmSetPagesToScan(id, n, r);
  }

  @Test
  void lockstep_threeIdenticalVms_sharingIsTwoTimesPages_countersEqualTheSequentialScanner() {
    int vms = 3;
    ActorRef<PageFrame.Command> pf = host(vms, PAGES);
    ActorRef<PageFrame.NotifierEvent> mmu = kit.spawn(autoAck());
    for (int v = 0; v < vms; v++) {
      pf.tell(new PageFrame.SubscribeNotifier(v, mmu));
    }
    madvise(pf, vms, PAGES);
    control(pf, pages(0)); // no wake-up batch: pure lockstep
    control(pf, run(1));
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.KsmFullScans(77, 2, r.getRef()));
    PageFrame.KsmFullScansDone done = r.expectMessageClass(PageFrame.KsmFullScansDone.class);
    assertThat(done.requestId()).isEqualTo(77);
    assertThat(done.passes()).isEqualTo(2);
    assertThat(done.handshakes()).isPositive();

    KsmScanner seq = sequential(vms, PAGES);
    seq.runFullScans(2);
    Map<String, Long> c = counters(pf);
    assertThat(c).containsEntry("pages_sharing", (long) (vms - 1) * PAGES);
    assertThat(c).containsEntry("pages_shared", (long) PAGES);
    assertThat(kernelCounters(c)).isEqualTo(KsmFrameScanner.countersOf(seq));
    assertThat(c.get("handshakes_waited")).isPositive();
    assertThat(stat(pf, "FRAMES_SAVED_BY_KSM")).isEqualTo((long) (vms - 1) * PAGES);
    assertInvariants(pf);
  }

  @Test
  void scanBatch_withTheTimerIdle_stepsKsmBatchByBatchLikeTheSequentialScanner() {
    int vms = 3;
    ActorRef<PageFrame.Command> pf = host(vms, PAGES);
    ActorRef<PageFrame.NotifierEvent> mmu = kit.spawn(autoAck());
    for (int v = 0; v < vms; v++) {
      pf.tell(new PageFrame.SubscribeNotifier(v, mmu));
    }
    madvise(pf, vms, PAGES);
    control(pf, pages(0)); // the timer scans nothing
    control(pf, run(1));
    KsmScanner seq = sequential(vms, PAGES);
    seq.setPagesToScan(PAGES); // one batch = a third of a pass
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    for (int b = 0; b < 6; b++) {
      long id = 100 + b;
      pf.tell(new PageFrame.KsmScan(id, PAGES, r.getRef()));
      long visited = seq.runBatch();
      PageFrame.KsmScanned done = r.expectMessageClass(PageFrame.KsmScanned.class);
      assertThat(done.requestId()).isEqualTo(id);
      assertThat(done.visited()).isEqualTo(visited);
      assertThat(kernelCounters(counters(pf))).isEqualTo(KsmFrameScanner.countersOf(seq));
    }
    time.timePasses(Duration.ofMillis(100)); // ticks with pages_to_scan 0 change nothing
    Map<String, Long> c = counters(pf);
    assertThat(kernelCounters(c)).isEqualTo(KsmFrameScanner.countersOf(seq));
    assertThat(c.get("pages_sharing")).isPositive(); // merges happened, through handshakes
    assertThat(c.get("handshakes_waited")).isPositive();
    // a retry of an answered batch is answered from memory, not scanned again
    pf.tell(new PageFrame.KsmScan(104, PAGES, r.getRef()));
    PageFrame.KsmReply again = r.receiveMessage();
    assertThat(again).isInstanceOf(PageFrame.KsmScanned.class);
    assertThat(counters(pf).get("pages_visited")).isEqualTo(c.get("pages_visited"));
    assertInvariants(pf);
  }

  @Test
  void timerDriven_mergesLikeTheSequentialScanner_batchByBatch() {
    int vms = 3;
    ActorRef<PageFrame.Command> pf = host(vms, PAGES);
    ActorRef<PageFrame.NotifierEvent> mmu = kit.spawn(autoAck());
    for (int v = 0; v < vms; v++) {
      pf.tell(new PageFrame.SubscribeNotifier(v, mmu));
    }
    madvise(pf, vms, PAGES);
    control(pf, run(1)); // wakes at once: pass 1 (checksums)
    counters(pf); // queued behind the wake-up batch: returns once it is done
    time.timePasses(Duration.ofMillis(20)); // pass 2: merges, through handshakes
    Map<String, Long> c = counters(pf);

    KsmScanner seq = sequential(vms, PAGES);
    seq.runBatch();
    seq.runBatch();
    assertThat(kernelCounters(c)).isEqualTo(KsmFrameScanner.countersOf(seq));
    assertThat(c).containsEntry("pages_sharing", (long) (vms - 1) * PAGES);
    assertThat(c).containsEntry("batches", 2L);
    assertThat(c.get("handshakes_waited")).isPositive();
  }

  /** Two VMs with one page of content A each, a host MMU probe subscribed to both. */
  private record Pair(
      ActorRef<PageFrame.Command> pf,
      TestProbe<PageFrame.NotifierEvent> mmu,
      TestProbe<PageFrame.KsmReply> done,
      java.util.List<PageFrame.NotifierEvent> held,
      int pfn0) {}

  /** Runs FullScans(2) up to the merge's write-protect events, which are not acknowledged. */
  private Pair pairAtHandshake() {
    ActorRef<PageFrame.Command> pf = host(2, 1);
    TestProbe<PageFrame.NotifierEvent> mmu = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, mmu.getRef()));
    pf.tell(new PageFrame.SubscribeNotifier(1, mmu.getRef()));
    int pfn0 = pfnOf(pf, 0);
    madvise(pf, 2, 1);
    control(pf, pages(0));
    control(pf, run(1));
    TestProbe<PageFrame.KsmReply> done = kit.createTestProbe();
    pf.tell(new PageFrame.KsmFullScans(88, 2, done.getRef()));
    // pass 2: VM 1's page finds VM 0's in the unstable tree: both are write-protected first
    PageFrame.NotifierEvent e1 = mmu.expectMessageClass(PageFrame.NotifierEvent.class);
    PageFrame.NotifierEvent e0 = mmu.expectMessageClass(PageFrame.NotifierEvent.class);
    assertThat(java.util.List.of(e1.vm(), e0.vm())).containsExactly(1, 0);
    done.expectNoMessage(QUIET);
    // nothing merged while the acks are outstanding (ksmd's counters wait for the round: the
    // frames, read at once, show it)
    assertThat(stat(pf, "FRAMES_SAVED_BY_KSM")).isZero();
    assertThat(stat(pf, "FRAMES_IN_USE")).isEqualTo(2);
    mmu.expectNoMessage(Duration.ZERO);
    return new Pair(pf, mmu, done, java.util.List.of(e1, e0), pfn0);
  }

  private static void ack(PageFrame.NotifierEvent ev) {
    ev.replyTo().tell(new PageFrame.NotifierAck(ev.vm(), ev.notifierSeq()));
  }

  @Test
  void handshake_withheldAck_holdsTheMerge_untilAcked_thenMerges() {
    Pair p = pairAtHandshake();
    ack(p.held().get(0));
    p.done().expectNoMessage(QUIET); // one ack still owed
    assertThat(stat(p.pf(), "FRAMES_SAVED_BY_KSM")).isZero();
    ack(p.held().get(1));
    // the page is re-processed: VM 1's page becomes the KSM page, VM 0's is replaced (an event)
    PageFrame.NotifierEvent replace = p.mmu().expectMessageClass(PageFrame.NotifierEvent.class);
    assertThat(replace.vm()).isZero();
    p.done().expectNoMessage(QUIET);
    ack(replace);
    p.done().expectMessage(new PageFrame.KsmFullScansDone(88, 2, 1));
    assertThat(counters(p.pf()))
        .containsEntry("pages_shared", 1L)
        .containsEntry("pages_sharing", 1L)
        .containsEntry("handshake_rewinds", 1L)
        .containsEntry("handshakes_abandoned", 0L);
    assertThat(stat(p.pf(), "FRAMES_SAVED_BY_KSM")).isEqualTo(1);
    assertThat(stat(p.pf(), "FRAMES_IN_USE")).isEqualTo(1);
    assertInvariants(p.pf());
  }

  @Test
  void storeBetweenWriteProtectAndAck_thatPageIsNotMerged() {
    Pair p = pairAtHandshake();
    // a vCPU of VM 0 that still maps the page writable stores before its host MMU acknowledges
    TestProbe<PageFrame.FramesReply> fr = kit.createTestProbe();
    p.pf().tell(new PageFrame.ReadFrames(nextId++, 0, 0, 1, fr.getRef()));
    assertThat(fr.expectMessageClass(PageFrame.FramesRead.class).fingerprints())
        .containsExactly(content(0));
    int pfn0 = p.pfn0();
    TestProbe<PageFrame.StoresReply> st = kit.createTestProbe();
    p.pf()
        .tell(
            new PageFrame.ApplyStores(
                nextId++, 0, 0, new int[] {pfn0}, new int[] {0}, new long[] {42}, st.getRef()));
    st.expectMessageClass(PageFrame.StoresDone.class);
    ack(p.held().get(0));
    ack(p.held().get(1));
    p.done().expectMessage(new PageFrame.KsmFullScansDone(88, 2, 1));
    p.mmu().expectNoMessage(QUIET); // no replace
    assertThat(counters(p.pf())).containsEntry("pages_sharing", 0L);
    assertThat(stat(p.pf(), "FRAMES_SAVED_BY_KSM")).isZero();
    assertThat(stat(p.pf(), "FRAMES_IN_USE")).isEqualTo(2);
    assertInvariants(p.pf());
  }

  /** The pfn behind gfn 0 of {@code vm} (a read fault on a present page; lease released). */
  private int pfnOf(ActorRef<PageFrame.Command> pf, int vm) {
    TestProbe<PageFrame.PfnReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, vm, 0, 0, false, r.getRef()));
    PageFrame.PfnAnswered a = r.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(vm, a.lease()));
    return a.result().pfn();
  }

  @Test
  void runTwo_unmergesEveryKsmPage() {
    int vms = 2;
    ActorRef<PageFrame.Command> pf = host(vms, PAGES);
    ActorRef<PageFrame.NotifierEvent> mmu = kit.spawn(autoAck());
    for (int v = 0; v < vms; v++) {
      pf.tell(new PageFrame.SubscribeNotifier(v, mmu));
    }
    madvise(pf, vms, PAGES);
    control(pf, pages(0));
    control(pf, run(1));
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.KsmFullScans(nextId++, 2, r.getRef()));
    r.expectMessageClass(PageFrame.KsmFullScansDone.class);
    assertThat(stat(pf, "FRAMES_SAVED_BY_KSM")).isEqualTo(PAGES);

    control(pf, run(2));
    Map<String, Long> c = counters(pf);
    assertThat(c)
        .containsEntry("pages_shared", 0L)
        .containsEntry("pages_sharing", 0L)
        .containsEntry("rmap_items", 0L)
        .containsEntry("full_scans", 0L)
        .containsEntry("run", 2L);
    assertThat(stat(pf, "FRAMES_SAVED_BY_KSM")).isZero();
    assertThat(stat(pf, "COW_KSM")).isEqualTo((long) vms * PAGES);
    assertInvariants(pf);
    time.timePasses(Duration.ofMillis(100));
    assertThat(counters(pf)).containsEntry("pages_visited", 0L + c.get("pages_visited"));
  }
}
