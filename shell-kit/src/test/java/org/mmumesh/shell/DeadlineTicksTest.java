package org.mmumesh.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayDeque;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class DeadlineTicksTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ManualTime.config());
  private static final ManualTime TIME = ManualTime.get(KIT.system());

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  interface Cmd {}

  record Grant(String item, ActorRef<String> replyTo) implements Cmd {}

  record Tick() implements Cmd {}

  /** Items wait in grant order; each tick expires the due prefix and reports it. */
  static Behavior<Cmd> holder(Duration period, Duration timeout) {
    return Behaviors.withTimers(
        timers -> {
          DeadlineTicks<Cmd> ticks =
              new DeadlineTicks<>(timers, "tick", new Tick(), period, timeout);
          ArrayDeque<Object[]> waiting = new ArrayDeque<>();
          return Behaviors.receive(Cmd.class)
              .onMessage(
                  Grant.class,
                  g -> {
                    waiting.add(new Object[] {g, ticks.deadline()});
                    g.replyTo().tell("granted " + g.item() + " running " + ticks.running());
                    return Behaviors.same();
                  })
              .onMessage(
                  Tick.class,
                  t -> {
                    ticks.tick();
                    while (!waiting.isEmpty() && ticks.expired((long) waiting.peek()[1])) {
                      Grant g = (Grant) waiting.poll()[0];
                      g.replyTo().tell("expired " + g.item() + " at tick " + ticks.ticks());
                    }
                    if (waiting.isEmpty()) {
                      ticks.stop();
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }

  @Test
  void itemGrantedWhileStopped_expiresAtTheFirstTickAtOrAfterTheTimeout() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> h = KIT.spawn(holder(Duration.ofMillis(100), Duration.ofMillis(250)));
    h.tell(new Grant("a", probe.getRef()));
    probe.expectMessage("granted a running true");
    TIME.timePasses(Duration.ofMillis(200));
    probe.expectNoMessage(Duration.ofMillis(50));
    TIME.timePasses(Duration.ofMillis(100));
    probe.expectMessage("expired a at tick 3");
  }

  @Test
  void itemGrantedWhileRunning_waitsOneTickMore_andTheTickStopsWhenNothingWaits() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> h = KIT.spawn(holder(Duration.ofMillis(100), Duration.ofMillis(200)));
    h.tell(new Grant("a", probe.getRef()));
    probe.expectMessage("granted a running true");
    TIME.timePasses(Duration.ofMillis(100));
    h.tell(new Grant("b", probe.getRef()));
    probe.expectMessage("granted b running true");
    TIME.timePasses(Duration.ofMillis(100));
    probe.expectMessage("expired a at tick 2");
    TIME.timePasses(Duration.ofMillis(100));
    probe.expectNoMessage(Duration.ofMillis(50));
    TIME.timePasses(Duration.ofMillis(100));
    probe.expectMessage("expired b at tick 4");
    // stopped: no tick is scheduled any more, so a new grant starts it at a known phase
    TIME.expectNoMessageFor(Duration.ofMillis(300), probe);
    h.tell(new Grant("c", probe.getRef()));
    probe.expectMessage("granted c running true");
    TIME.timePasses(Duration.ofMillis(200));
    probe.expectMessage("expired c at tick 6");
  }

  @Test
  void ticksPerTimeout_roundsUp_andRejectsAPeriodLongerThanTheTimeout() {
    assertThat(DeadlineTicks.ticksPerTimeout(Duration.ofMillis(100), Duration.ofMillis(250)))
        .isEqualTo(3);
    assertThat(DeadlineTicks.ticksPerTimeout(Duration.ofMillis(100), Duration.ofMillis(200)))
        .isEqualTo(2);
    assertThatThrownBy(
            () -> DeadlineTicks.ticksPerTimeout(Duration.ofMillis(300), Duration.ofMillis(200)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("period")
        .hasMessageContaining("at most timeout");
    assertThatThrownBy(() -> DeadlineTicks.ticksPerTimeout(Duration.ZERO, Duration.ofMillis(200)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allowed > 0");
  }
}
