package org.mmumesh.ksm.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The Ksm actor's schedule on ManualTime, with a TestProbe in place of the PageFrame: one batch per
 * {@code sleep_millisecs}, a handshake continued at once with the remaining budget, ticks coalesced
 * while a batch is outstanding, timeouts retried with the same requestId.
 */
class KsmScheduleTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration QUIET = Duration.ofMillis(100);

  private TestProbe<PageFrame.Command> pageFrame;
  private TestProbe<Ksm.ControlReply> client;
  private ActorRef<Ksm.Command> ksm;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /** A Ksm with the defaults (100 pages, 20 ms) set running; its wake-up batch answered. */
  @BeforeEach
  void setUp() {
    pageFrame = kit.createTestProbe();
    client = kit.createTestProbe();
    ksm = kit.spawn(Ksm.create(pageFrame.getRef(), Ksm.Settings.defaults()));
    ksm.tell(new Ksm.SetRun(1, 1, client.getRef()));
    PageFrame.KsmSetRun run = pageFrame.expectMessageClass(PageFrame.KsmSetRun.class);
    run.replyTo().tell(new PageFrame.KsmControlDone(run.requestId()));
    client.expectMessage(new Ksm.ControlDone(1));
    PageFrame.KsmScan wake = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    assertThat(wake.pages()).isEqualTo(100);
    wake.replyTo().tell(new PageFrame.KsmScanned(wake.requestId(), 100, false));
    pageFrame.expectNoMessage(QUIET);
  }

  private java.util.Map<String, Long> counters(long id) {
    TestProbe<Ksm.CountersReply> c = kit.createTestProbe();
    ksm.tell(new Ksm.GetCounters(id, c.getRef()));
    PageFrame.GetKsmCounters get = pageFrame.expectMessageClass(PageFrame.GetKsmCounters.class);
    get.replyTo()
        .tell(
            new PageFrame.KsmCounters(
                get.requestId(), java.util.Map.of("pages_sharing", 0L), java.util.List.of()));
    return c.expectMessageClass(Ksm.Counters.class).counters();
  }

  @Test
  void every20ms_exactlyOneKsmScanOfPagesToScan() {
    time.timePasses(Duration.ofMillis(20));
    PageFrame.KsmScan scan = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    assertThat(scan.pages()).isEqualTo(100);
    pageFrame.expectNoMessage(QUIET);
    scan.replyTo().tell(new PageFrame.KsmScanned(scan.requestId(), 100, false));
    time.timePasses(Duration.ofMillis(19));
    pageFrame.expectNoMessage(QUIET);
    time.timePasses(Duration.ofMillis(1));
    assertThat(pageFrame.expectMessageClass(PageFrame.KsmScan.class).pages()).isEqualTo(100);
  }

  @Test
  void handshakePending_nextScanForTheRemainingBudgetAtOnce_withANewRequestId() {
    time.timePasses(Duration.ofMillis(20));
    PageFrame.KsmScan first = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    first.replyTo().tell(new PageFrame.KsmScanned(first.requestId(), 30, true));
    PageFrame.KsmScan rest = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    assertThat(rest.pages()).isEqualTo(70);
    assertThat(rest.requestId()).isNotEqualTo(first.requestId());
    rest.replyTo().tell(new PageFrame.KsmScanned(rest.requestId(), 70, false));
    pageFrame.expectNoMessage(QUIET);
    assertThat(counters(5))
        .containsEntry("batches", 2L) // the wake-up batch and this one
        .containsEntry("handshakes_waited", 1L)
        .containsEntry("pages_sharing", 0L)
        .containsEntry("run", 1L)
        .containsEntry("pages_to_scan", 100L)
        .containsEntry("sleep_millisecs", 20L);
  }

  @Test
  void ticksWhileABatchIsOutstanding_areCoalesced_notQueued() {
    time.timePasses(Duration.ofMillis(20));
    PageFrame.KsmScan scan = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    time.timePasses(Duration.ofMillis(60));
    pageFrame.expectNoMessage(QUIET);
    scan.replyTo().tell(new PageFrame.KsmScanned(scan.requestId(), 100, false));
    assertThat(counters(6)).containsEntry("coalesced_ticks", 3L).containsEntry("batches", 2L);
  }

  @Test
  void unansweredScan_retriedWithTheSameRequestId_lateDuplicateIgnored() {
    time.timePasses(Duration.ofMillis(20));
    PageFrame.KsmScan scan = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    time.timePasses(Duration.ofSeconds(5));
    PageFrame.KsmScan retry = pageFrame.expectMessageClass(PageFrame.KsmScan.class);
    assertThat(retry).isEqualTo(scan);
    scan.replyTo().tell(new PageFrame.KsmScanned(scan.requestId(), 100, false));
    scan.replyTo().tell(new PageFrame.KsmScanned(scan.requestId(), 100, false)); // the retry's
    java.util.Map<String, Long> c = counters(7);
    assertThat(c).containsEntry("retries", 1L).containsEntry("batches", 2L);
    assertThat(c.get("coalesced_ticks")).isPositive();
  }

  @Test
  void clientRetryOfSetRun_joinsTheOperation_oneRequestToThePageFrame() {
    ksm.tell(new Ksm.SetRun(9, 0, client.getRef()));
    ksm.tell(new Ksm.SetRun(9, 0, client.getRef()));
    PageFrame.KsmSetRun stop = pageFrame.expectMessageClass(PageFrame.KsmSetRun.class);
    pageFrame.expectNoMessage(QUIET);
    stop.replyTo().tell(new PageFrame.KsmControlDone(stop.requestId()));
    client.expectMessage(new Ksm.ControlDone(9));
    client.expectMessage(new Ksm.ControlDone(9));
    ksm.tell(new Ksm.SetRun(9, 0, client.getRef()));
    client.expectMessage(new Ksm.ControlDone(9)); // from memory
    time.timePasses(Duration.ofMillis(100));
    pageFrame.expectNoMessage(QUIET); // stopped: no more ticks
  }

  @Test
  void pageFrameNeverAnswers_clientGetsFailedAfterTheLastAttempt() {
    TestProbe<Ksm.ControlReply> c = kit.createTestProbe();
    ksm.tell(new Ksm.Madvise(3, 0, 0, 8, true, c.getRef()));
    PageFrame.KsmMadvise m = pageFrame.expectMessageClass(PageFrame.KsmMadvise.class);
    for (int i = 0; i < 4; i++) {
      time.timePasses(Duration.ofSeconds(5));
      assertThat(pageFrame.expectMessageClass(PageFrame.KsmMadvise.class)).isEqualTo(m);
    }
    time.timePasses(Duration.ofSeconds(5));
    assertThat(c.expectMessageClass(Ksm.Failed.class).cause())
        .isEqualTo("page-frame: no reply to KsmMadvise after 5 attempts");
  }
}
