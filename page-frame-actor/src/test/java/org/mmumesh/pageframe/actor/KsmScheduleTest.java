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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * ksmd's schedule in the PageFrame ({@link KsmShell}) on ManualTime, with the stand-in scanner of
 * {@link PageFrameKsmScannerTest}: {@code run} 1 wakes ksmd at once and then every {@code
 * sleep_millisecs}, each wake-up scanning {@code pages_to_scan}; a wake-up stopped by a handshake
 * goes on with its budget once the round is acknowledged; ticks during a round are coalesced; the
 * timer follows {@code sleep_millisecs} and stops with {@code run} 0.
 */
class KsmScheduleTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration QUIET = Duration.ofMillis(200);

  private long nextId = 100;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private void control(
      ActorRef<PageFrame.Command> pf,
      BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> c) {
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    long id = nextId++;
    pf.tell(c.apply(id, r.getRef()));
    r.expectMessage(new PageFrame.KsmControlDone(id));
  }

  /** The counters once every message sent before (ticks included) was handled. */
  private Map<String, Long> counters(ActorRef<PageFrame.Command> pf) {
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.GetKsmCounters(nextId++, r.getRef()));
    return r.expectMessageClass(PageFrame.KsmCounters.class).counters();
  }

  private static BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> run(int run) {
    return (id, r) -> new PageFrame.KsmSetRun(id, run, r);
  }

  private static BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> pages(long n) {
    return (id, r) -> new PageFrame.KsmSetPagesToScan(id, n, r);
  }

  private static BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> sleep(long ms) {
    return (id, r) -> new PageFrame.KsmSetSleepMillisecs(id, ms, r);
  }

  @Test
  void runOne_wakesAtOnce_thenOneWakeUpOfPagesToScanEverySleepMillisecs() {
    ActorRef<PageFrame.Command> pf = PageFrameKsmScannerTest.hostWithScanner(kit);
    control(pf, run(1));
    assertThat(counters(pf))
        .containsEntry("scans", 1L)
        .containsEntry("pages_visited", 100L)
        .containsEntry("batches", 1L)
        .containsEntry("run", 1L)
        .containsEntry("pages_to_scan", 100L)
        .containsEntry("sleep_millisecs", 20L);
    time.timePasses(Duration.ofMillis(20));
    assertThat(counters(pf)).containsEntry("scans", 2L).containsEntry("pages_visited", 200L);
    time.timePasses(Duration.ofMillis(19));
    assertThat(counters(pf)).containsEntry("scans", 2L);
    time.timePasses(Duration.ofMillis(1));
    assertThat(counters(pf)).containsEntry("scans", 3L).containsEntry("batches", 3L);
  }

  @Test
  void handshake_wakeUpGoesOnWithItsBudgetOnceAcked_ticksMeanwhileCoalesced() {
    ActorRef<PageFrame.Command> pf = PageFrameKsmScannerTest.hostWithScanner(kit);
    TestProbe<PageFrame.NotifierEvent> host = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, host.getRef()));
    control(pf, run(1)); // the wake-up write-protects page 3: a handshake round
    PageFrame.NotifierEvent ev = host.expectMessageClass(PageFrame.NotifierEvent.class);
    time.timePasses(Duration.ofMillis(60)); // three ticks while the round is in flight
    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    pf.tell(new PageFrame.GetKsmCounters(1, r.getRef()));
    r.expectNoMessage(QUIET); // waits: the wake-up is not over
    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    Map<String, Long> c = r.expectMessageClass(PageFrame.KsmCounters.class).counters();
    assertThat(c)
        .containsEntry("scans", 2L) // stopped at the handshake, then the rest of the budget
        .containsEntry("pages_visited", 100L)
        .containsEntry("batches", 1L)
        .containsEntry("handshakes_waited", 1L)
        .containsEntry("coalesced_ticks", 3L);
    host.expectNoMessage(Duration.ZERO);
  }

  @Test
  void sleepMillisecs_whileRunning_restartsTheTimerWithTheNewPeriod() {
    ActorRef<PageFrame.Command> pf = PageFrameKsmScannerTest.hostWithScanner(kit);
    control(pf, run(1));
    control(pf, sleep(50));
    time.timePasses(Duration.ofMillis(49));
    assertThat(counters(pf)).containsEntry("batches", 1L).containsEntry("sleep_millisecs", 50L);
    time.timePasses(Duration.ofMillis(1));
    assertThat(counters(pf)).containsEntry("batches", 2L);
  }

  @Test
  void runZero_stopsTheTimer_pagesToScanZero_ticksScanNothing() {
    ActorRef<PageFrame.Command> pf = PageFrameKsmScannerTest.hostWithScanner(kit);
    control(pf, pages(0));
    control(pf, run(1));
    time.timePasses(Duration.ofMillis(100));
    assertThat(counters(pf)).containsEntry("scans", 0L).containsEntry("batches", 0L);
    control(pf, pages(7));
    time.timePasses(Duration.ofMillis(20));
    assertThat(counters(pf)).containsEntry("pages_visited", 7L);
    control(pf, run(0));
    time.timePasses(Duration.ofMillis(100));
    assertThat(counters(pf))
        .containsEntry("scans", 1L)
        .containsEntry("run", 0L)
        .containsEntry("coalesced_ticks", 0L);
  }

  @Test
  void sleepMillisecs_whileStopped_startsNothing() {
    ActorRef<PageFrame.Command> pf = PageFrameKsmScannerTest.hostWithScanner(kit);
    control(pf, sleep(5));
    time.timePasses(Duration.ofMillis(100));
    assertThat(counters(pf)).containsEntry("scans", 0L).containsEntry("sleep_millisecs", 5L);
  }
}
