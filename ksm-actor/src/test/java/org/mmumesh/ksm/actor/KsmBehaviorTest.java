package org.mmumesh.ksm.actor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.actor.PageFrame;

/** The Ksm actor's effects: the timer follows {@code run}, and bad input is rejected by name. */
class KsmBehaviorTest {
  private TestInbox<PageFrame.Command> pageFrame;
  private BehaviorTestKit<Ksm.Command> ksm;
  private TestInbox<Ksm.ControlReply> client;

  @BeforeEach
  void setUp() {
    pageFrame = TestInbox.create();
    client = TestInbox.create();
    ksm = BehaviorTestKit.create(Ksm.create(pageFrame.getRef(), Ksm.Settings.defaults()));
    ksm.getAllEffects();
  }

  private List<Effect.TimerScheduled<?>> tickTimers(List<Effect> effects) {
    return effects.stream()
        .filter(e -> e instanceof Effect.TimerScheduled<?> t && t.key().toString().equals("TICK"))
        .<Effect.TimerScheduled<?>>map(e -> (Effect.TimerScheduled<?>) e)
        .toList();
  }

  /** Sends SetRun, answers the PageFrame's KsmSetRun, returns the effects of the answer. */
  private List<Effect> setRun(long id, int run) {
    ksm.run(new Ksm.SetRun(id, run, client.getRef()));
    PageFrame.KsmSetRun sent = (PageFrame.KsmSetRun) pageFrame.receiveMessage();
    assertThat(sent.run()).isEqualTo(run);
    ksm.getAllEffects();
    sent.replyTo().tell(new PageFrame.KsmControlDone(sent.requestId()));
    ksm.runOne();
    client.expectMessage(new Ksm.ControlDone(id));
    return ksm.getAllEffects();
  }

  @Test
  void runOne_startsTheTickTimerAtSleepMillisecs_andWakesAtOnce_runZeroCancelsIt() {
    List<Effect> effects = setRun(1, 1);
    List<Effect.TimerScheduled<?>> ticks = tickTimers(effects);
    assertThat(ticks).hasSize(1);
    assertThat(ticks.get(0).delay().toMillis()).isEqualTo(20);
    PageFrame.KsmScan wake = (PageFrame.KsmScan) pageFrame.receiveMessage();
    assertThat(wake.pages()).isEqualTo(100);
    wake.replyTo().tell(new PageFrame.KsmScanned(wake.requestId(), 100, false));
    ksm.runOne();

    effects = setRun(2, 0);
    assertThat(effects)
        .anySatisfy(
            e ->
                assertThat(e)
                    .isInstanceOfSatisfying(
                        Effect.TimerCancelled.class,
                        c -> assertThat(c.key().toString()).isEqualTo("TICK")));
    assertThat(pageFrame.hasMessages()).isFalse();
  }

  @Test
  void sleepMillisecs_whileRunning_restartsTheTimerWithTheNewPeriod() {
    setRun(1, 1);
    ksm.run(new Ksm.SetSleepMillisecs(2, 50, client.getRef()));
    client.expectMessage(new Ksm.ControlDone(2));
    assertThat(tickTimers(ksm.getAllEffects()))
        .singleElement()
        .satisfies(t -> assertThat(t.delay().toMillis()).isEqualTo(50));
  }

  @Test
  void sleepMillisecs_whileStopped_schedulesNothing() {
    ksm.run(new Ksm.SetSleepMillisecs(2, 50, client.getRef()));
    client.expectMessage(new Ksm.ControlDone(2));
    assertThat(tickTimers(ksm.getAllEffects())).isEmpty();
  }

  @Test
  void badControls_rejectedNamingFieldAndRange_nothingSent() {
    ksm.run(new Ksm.SetRun(1, 3, client.getRef()));
    client.expectMessage(new Ksm.Rejected(1, "run: 3 is out of range; allowed 0 to 2"));
    ksm.run(new Ksm.SetRun(2, -1, client.getRef()));
    client.expectMessage(new Ksm.Rejected(2, "run: -1 is out of range; allowed 0 to 2"));
    ksm.run(new Ksm.SetPagesToScan(3, -1, client.getRef()));
    client.expectMessage(
        new Ksm.Rejected(3, "pages_to_scan: -1 is out of range; allowed 0 to 4294967295"));
    ksm.run(new Ksm.SetPagesToScan(4, 1L << 32, client.getRef()));
    client.expectMessage(
        new Ksm.Rejected(4, "pages_to_scan: 4294967296 is out of range; allowed 0 to 4294967295"));
    ksm.run(new Ksm.SetSleepMillisecs(5, 0, client.getRef()));
    client.expectMessage(
        new Ksm.Rejected(5, "sleep_millisecs: 0 is out of range; allowed 1 to 4294967295"));
    ksm.run(new Ksm.Madvise(6, -1, 0, 4, true, client.getRef()));
    client.expectMessage(new Ksm.Rejected(6, "vm: -1 is out of range; allowed 0 to 65535"));
    ksm.run(new Ksm.Madvise(7, 0, 0, 0, true, client.getRef()));
    client.expectMessage(new Ksm.Rejected(7, "pages: 0 is out of range; allowed 1 to 2147483639"));
    ksm.run(new Ksm.Madvise(8, 0, -5, 1, false, client.getRef()));
    client.expectMessage(
        new Ksm.Rejected(8, "startPage: -5 is out of range; allowed 0 to 2147483638"));
    TestInbox<Ksm.FullScansReply> full = TestInbox.create();
    ksm.run(new Ksm.FullScans(9, -1, full.getRef()));
    full.expectMessage(new Ksm.Rejected(9, "passes: -1 is out of range; allowed 0 to 2147483647"));
    ksm.run(new Ksm.FullScans(10, 1, full.getRef()));
    full.expectMessage(
        new Ksm.Rejected(10, "run: 0 is not allowed for FullScans; allowed 1 (SetRun 1 first)"));
    TestInbox<Ksm.ScanBatchReply> batch = TestInbox.create();
    ksm.run(new Ksm.ScanBatch(11, 0, batch.getRef()));
    batch.expectMessage(new Ksm.Rejected(11, "pages: 0 is out of range; allowed 1 to 4294967295"));
    ksm.run(new Ksm.ScanBatch(12, 1L << 32, batch.getRef()));
    batch.expectMessage(
        new Ksm.Rejected(12, "pages: 4294967296 is out of range; allowed 1 to 4294967295"));
    ksm.run(new Ksm.ScanBatch(13, 10, batch.getRef()));
    batch.expectMessage(
        new Ksm.Rejected(13, "run: 0 is not allowed for ScanBatch; allowed 1 (SetRun 1 first)"));
    assertThat(pageFrame.hasMessages()).isFalse();
    assertThat(tickTimers(ksm.getAllEffects())).isEmpty();
  }

  @Test
  void pageFrameRejection_isPassedOnToTheClient() {
    ksm.run(new Ksm.Madvise(1, 9, 0, 4, true, client.getRef()));
    PageFrame.KsmMadvise sent = (PageFrame.KsmMadvise) pageFrame.receiveMessage();
    assertThat(sent.vm()).isEqualTo(9);
    sent.replyTo().tell(new PageFrame.Rejected(sent.requestId(), "vm: 9 does not exist"));
    ksm.runOne();
    client.expectMessage(new Ksm.Rejected(1, "vm: 9 does not exist"));
  }
}
