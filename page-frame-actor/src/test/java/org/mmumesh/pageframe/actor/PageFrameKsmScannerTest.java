package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Checks;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.PageFrames;

/**
 * The PageFrame's KSM scanner commands with a stand-in {@link FrameScanner} (page-frame-actor
 * cannot see the real one): rejection without a scanner, a batch's reply held until its handshake
 * round is acknowledged, idempotent retries, full scans continuing through rounds, and the core's
 * invalidation tracking.
 */
class PageFrameKsmScannerTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final Duration QUIET = Duration.ofMillis(200);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /**
   * Write-protects host page 3 of VM 0 on each call while it is writable; reports a handshake if
   * that left an invalidation pending, else does the whole work.
   */
  static final class StandInScanner implements FrameScanner {
    final PageFrames pf;
    int run;
    long pagesToScan = 100;
    long sleepMillisecs = 20;
    long scans;
    long visited;

    StandInScanner(PageFrames pf) {
      this.pf = pf;
    }

    private boolean handshake() {
      if (pf.hasVm(0) && pf.pteWritable(0, 3)) {
        pf.writeProtectPage(0, 3, pf.ptePfn(0, 3));
        return pf.invalidationPending(0, 3);
      }
      return false;
    }

    @Override
    public Batch scan(long maxPages) {
      scans++;
      if (handshake()) {
        return new Batch(0, true);
      }
      visited += maxPages;
      return new Batch(maxPages, false);
    }

    @Override
    public Passes runFullScans(int passes) {
      if (run != 1) {
        throw new IllegalArgumentException("run: " + run + " is not allowed; allowed 1");
      }
      return handshake() ? new Passes(0, true) : new Passes(passes, false);
    }

    @Override
    public void setRun(int r) {
      Checks.inRange("run", r, 0, 2);
      run = r;
    }

    @Override
    public int run() {
      return run;
    }

    @Override
    public void setPagesToScan(long pages) {
      pagesToScan = Checks.inRange("pages_to_scan", pages, 0, 0xFFFF_FFFFL);
    }

    @Override
    public long pagesToScan() {
      return pagesToScan;
    }

    @Override
    public void setSleepMillisecs(long millis) {
      sleepMillisecs = Checks.inRange("sleep_millisecs", millis, 1, 0xFFFF_FFFFL);
    }

    @Override
    public long sleepMillisecs() {
      return sleepMillisecs;
    }

    @Override
    public void madvise(int vm, long hvaPage, long pages, boolean mergeable) {
      if (!pf.hasVm(vm)) {
        throw new IllegalArgumentException("vm: " + vm + " does not exist in the page frames");
      }
    }

    @Override
    public Map<String, Long> counters() {
      Map<String, Long> c = new LinkedHashMap<>();
      c.put("scans", scans);
      c.put("pages_visited", visited);
      return c;
    }

    @Override
    public List<String> counterViolations() {
      return List.of();
    }
  }

  /** A PageFrame with the stand-in, VM 0 with gfn 0x100.. on host pages 0.., page 3 populated. */
  static ActorRef<PageFrame.Command> hostWithScanner(ActorTestKit kit) {
    ActorRef<PageFrame.Command> pf =
        kit.spawn(PageFrame.create(PageFrame.Settings.defaults(), StandInScanner::new));
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    pf.tell(new PageFrame.CreateVm(1, 0, vm.getRef()));
    vm.expectMessageClass(PageFrame.VmCreated.class);
    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    pf.tell(new PageFrame.AddSlot(2, 0, 0, 0x100, 16, 0, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
    TestProbe<PageFrame.PopulateReply> pop = kit.createTestProbe();
    pf.tell(new PageFrame.Populate(3, 0, 0x103, 77, pop.getRef()));
    pop.expectMessageClass(PageFrame.Populated.class);
    return pf;
  }

  @Test
  void withoutScanner_everyKsmScannerCommandIsRejectedWithTheReason() {
    ActorRef<PageFrame.Command> pf = kit.spawn(PageFrame.create(PageFrame.Settings.defaults()));
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.KsmScan(1, 10, r.getRef()));
    pf.tell(new PageFrame.KsmSetRun(2, 1, r.getRef()));
    pf.tell(new PageFrame.KsmMadvise(3, 0, 0, 4, true, r.getRef()));
    pf.tell(new PageFrame.KsmFullScans(4, 1, r.getRef()));
    pf.tell(new PageFrame.GetKsmCounters(5, r.getRef()));
    pf.tell(new PageFrame.KsmSetPagesToScan(6, 10, r.getRef()));
    pf.tell(new PageFrame.KsmSetSleepMillisecs(7, 10, r.getRef()));
    for (long id = 1; id <= 7; id++) {
      r.expectMessage(new PageFrame.Rejected(id, PageFrame.NO_SCANNER));
    }
  }

  @Test
  void badInput_rejectedNamingTheField_changingNothing() {
    ActorRef<PageFrame.Command> pf = hostWithScanner(kit);
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.KsmScan(1, 0, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("pages: 0 is out of range; allowed 1 to 4294967295");
    pf.tell(new PageFrame.KsmScan(1, 1L << 32, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("pages: 4294967296 is out of range; allowed 1 to 4294967295");
    pf.tell(new PageFrame.KsmScan(1, 10, r.getRef())); // run is 0
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("run: 0 is not allowed for KsmScan; allowed 1 (KsmSetRun 1 first)");
    pf.tell(new PageFrame.KsmSetPagesToScan(1, -1, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("pages_to_scan: -1 is out of range; allowed 0 to 4294967295");
    pf.tell(new PageFrame.KsmSetSleepMillisecs(1, 0, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("sleep_millisecs: 0 is out of range; allowed 1 to 4294967295");
    pf.tell(new PageFrame.KsmSetRun(2, 3, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("run: 3 is out of range; allowed 0 to 2");
    pf.tell(new PageFrame.KsmMadvise(3, 9, 0, 4, true, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason()).startsWith("vm: 9");
    pf.tell(new PageFrame.KsmFullScans(4, -2, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("passes: -2 is out of range; allowed 0 to 2147483647");
    pf.tell(new PageFrame.KsmFullScans(5, 1, r.getRef())); // run is 0
    assertThat(r.expectMessageClass(PageFrame.Rejected.class).reason()).startsWith("run: 0");
    // a refused KSM command changes nothing, no statistic either (the gateway checks it)
    TestProbe<PageFrame.StatsReply> stats = kit.createTestProbe();
    pf.tell(new PageFrame.GetStats(stats.getRef()));
    assertThat(stats.receiveMessage().counters()).doesNotContainKey("REJECTED");
    pf.tell(new PageFrame.GetKsmCounters(6, r.getRef()));
    assertThat(r.expectMessageClass(PageFrame.KsmCounters.class).counters())
        .containsEntry("run", 0L)
        .containsEntry("pages_to_scan", 100L)
        .containsEntry("request_failures", 0L)
        .containsEntry("scans", 0L);
  }

  @Test
  void batchWithHandshake_replyHeldUntilAcked_retryAnsweredFromMemory_otherCommandsWait() {
    ActorRef<PageFrame.Command> pf = hostWithScanner(kit);
    TestProbe<PageFrame.NotifierEvent> host = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, host.getRef()));
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.KsmSetPagesToScan(8, 0, r.getRef())); // lockstep: the timer scans nothing
    r.expectMessage(new PageFrame.KsmControlDone(8));
    pf.tell(new PageFrame.KsmSetRun(9, 1, r.getRef()));
    r.expectMessage(new PageFrame.KsmControlDone(9));
    pf.tell(new PageFrame.KsmScan(10, 50, r.getRef()));
    PageFrame.NotifierEvent ev = host.expectMessageClass(PageFrame.NotifierEvent.class);
    assertThat(ev.gfnStart()).isEqualTo(0x103);
    pf.tell(new PageFrame.KsmScan(10, 50, r.getRef())); // a retry while the round is in flight
    TestProbe<PageFrame.PfnReply> vcpu = kit.createTestProbe();
    pf.tell(new PageFrame.GfnToPfnProt(11, 0, 0, 0x104, true, vcpu.getRef()));
    r.expectNoMessage(QUIET);
    vcpu.expectNoMessage(Duration.ZERO);

    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    // acked: the wake-up goes on with its budget, the page read-only now
    r.expectMessage(new PageFrame.KsmScanned(10, 50, 1));
    r.expectMessage(new PageFrame.KsmScanned(10, 50, 1)); // the retry, from memory
    vcpu.expectMessageClass(PageFrame.PfnAnswered.class);

    pf.tell(new PageFrame.KsmScan(12, 50, r.getRef())); // no write-protect: no event
    r.expectMessage(new PageFrame.KsmScanned(12, 50, 0));
    host.expectNoMessage(Duration.ZERO);
    pf.tell(new PageFrame.GetKsmCounters(13, r.getRef()));
    PageFrame.KsmCounters c = r.expectMessageClass(PageFrame.KsmCounters.class);
    assertThat(c.counters())
        .containsEntry("scans", 3L)
        .containsEntry("pages_visited", 100L)
        .containsEntry("batches", 2L)
        .containsEntry("handshakes_waited", 1L)
        .containsEntry("retries", 1L)
        .containsEntry("run", 1L)
        .containsEntry("pages_to_scan", 0L)
        .containsEntry("sleep_millisecs", 20L);
  }

  @Test
  void fullScans_goOnThroughTheHandshakeRound_thenReply() {
    ActorRef<PageFrame.Command> pf = hostWithScanner(kit);
    TestProbe<PageFrame.NotifierEvent> host = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, host.getRef()));
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.KsmSetPagesToScan(19, 0, r.getRef())); // no wake-up batch
    r.expectMessage(new PageFrame.KsmControlDone(19));
    pf.tell(new PageFrame.KsmSetRun(20, 1, r.getRef()));
    r.expectMessage(new PageFrame.KsmControlDone(20));
    pf.tell(new PageFrame.KsmFullScans(21, 3, r.getRef()));
    PageFrame.NotifierEvent ev = host.expectMessageClass(PageFrame.NotifierEvent.class);
    r.expectNoMessage(QUIET);
    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    r.expectMessage(new PageFrame.KsmFullScansDone(21, 3, 1));
    pf.tell(new PageFrame.KsmFullScans(21, 3, r.getRef()));
    r.expectMessage(new PageFrame.KsmFullScansDone(21, 3, 1)); // retry: from memory
    pf.tell(new PageFrame.KsmMadvise(22, 0, 0, 16, true, r.getRef()));
    r.expectMessage(new PageFrame.KsmControlDone(22));
  }

  @Test
  void core_tracksInvalidationsOfChosenVms_untilCompleted_notMemslotOnes() {
    PageFrames pf = new PageFrames();
    pf.createVm(0);
    pf.createVm(1);
    pf.addSlot(0, 0, 0, 8, 0, false);
    pf.addSlot(1, 0, 0, 8, 0, false);
    pf.populate(0, 2, 5);
    pf.populate(1, 2, 5);
    pf.writeProtectPage(0, 2, pf.ptePfn(0, 2)); // tracking off: nothing recorded
    assertThat(pf.pendingInvalidations()).isZero();
    pf.trackInvalidations(vm -> vm == 1);
    pf.populate(0, 3, 5);
    pf.populate(1, 3, 5);
    pf.writeProtectPage(0, 3, pf.ptePfn(0, 3));
    pf.writeProtectPage(1, 3, pf.ptePfn(1, 3));
    assertThat(pf.invalidationPending(0, 3)).isFalse();
    assertThat(pf.invalidationPending(1, 3)).isTrue();
    assertThat(pf.invalidationPending(1, 2)).isFalse();
    pf.beginRemoveSlot(1, 0);
    assertThat(pf.pendingInvalidations()).isEqualTo(1);
    pf.completeInvalidations();
    assertThat(pf.invalidationPending(1, 3)).isFalse();
  }
}
