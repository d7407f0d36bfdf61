package org.mmumesh.shell;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class HeldRepliesTest {
  private static final ActorTestKit KIT = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  interface Cmd {}

  /** Opens a round that holds "held-<tag>"; with steps > 1 the held reply opens the next one. */
  record Hold(String tag, int steps, ActorRef<String> replyTo) implements Cmd {}

  /** Completes the open round (handled at once). */
  record Ack() implements Cmd {}

  /** Read-only, handled at once. */
  record Query(ActorRef<String> replyTo) implements Cmd {}

  /** Ordinary work: stashed while a round is open. */
  record Work(String tag, ActorRef<String> replyTo) implements Cmd {}

  /** Watches {@code who}; its termination is reported to {@code replyTo}. */
  record Watch(ActorRef<?> who, ActorRef<String> replyTo) implements Cmd {}

  static final class Shell extends AbstractBehavior<Cmd> {
    private final HeldReplies<Cmd> held;
    private ActorRef<String> watcher;

    static Behavior<Cmd> create(int stashCapacity) {
      return Behaviors.withStash(
          stashCapacity,
          stash ->
              Behaviors.setup(
                  ctx ->
                      new Shell(
                          ctx,
                          new HeldReplies<>(
                              stash,
                              m -> m instanceof Ack || m instanceof Query,
                              m -> {
                                if (m instanceof Work w) {
                                  w.replyTo().tell("full-" + w.tag());
                                }
                              }))));
    }

    private Shell(ActorContext<Cmd> ctx, HeldReplies<Cmd> held) {
      super(ctx);
      this.held = held;
    }

    @Override
    public Receive<Cmd> createReceive() {
      return newReceiveBuilder()
          .onMessage(Hold.class, this::onHold)
          .onMessage(Ack.class, m -> held.release())
          .onMessage(Query.class, this::onQuery)
          .onMessage(Work.class, this::onWork)
          .onMessage(Watch.class, this::onWatch)
          .onSignal(Terminated.class, t -> onTerminated())
          .build();
    }

    private Behavior<Cmd> onHold(Hold m) {
      return held.hold(this, heldReply(m.tag(), m.steps(), m.replyTo()));
    }

    private Runnable heldReply(String tag, int steps, ActorRef<String> replyTo) {
      return () -> {
        replyTo.tell("held-" + tag + "-" + steps);
        if (steps > 1) {
          held.hold(this, heldReply(tag, steps - 1, replyTo));
        }
      };
    }

    private Behavior<Cmd> onQuery(Query m) {
      m.replyTo().tell(held.isWaiting() ? "waiting, stashed " + held.stashed() : "idle");
      return this;
    }

    private Behavior<Cmd> onWork(Work m) {
      m.replyTo().tell("work-" + m.tag() + (held.isWaiting() ? "-while-waiting" : ""));
      return this;
    }

    private Behavior<Cmd> onWatch(Watch m) {
      watcher = m.replyTo();
      getContext().watch(m.who());
      return this;
    }

    private Behavior<Cmd> onTerminated() {
      watcher.tell("terminated");
      return this;
    }
  }

  @Test
  void hold_stashesWorkAndAnswersQueriesAtOnce_thenReleaseSendsHeldReplyBeforeTheStash() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> shell = KIT.spawn(Shell.create(8));
    shell.tell(new Hold("a", 1, probe.getRef()));
    shell.tell(new Work("1", probe.getRef()));
    shell.tell(new Work("2", probe.getRef()));
    shell.tell(new Query(probe.getRef()));
    probe.expectMessage("waiting, stashed 2");
    shell.tell(new Ack());
    probe.expectMessage("held-a-1");
    probe.expectMessage("work-1");
    probe.expectMessage("work-2");
    shell.tell(new Query(probe.getRef()));
    probe.expectMessage("idle");
  }

  @Test
  void stashFull_handsTheMessageToWhenFull_andKeepsTheStashedOnes() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> shell = KIT.spawn(Shell.create(1));
    shell.tell(new Hold("a", 1, probe.getRef()));
    shell.tell(new Work("1", probe.getRef()));
    shell.tell(new Work("2", probe.getRef()));
    probe.expectMessage("full-2");
    shell.tell(new Ack());
    probe.expectMessage("held-a-1");
    probe.expectMessage("work-1");
  }

  @Test
  void heldReplyThatHoldsAgain_staysWaitingUntilTheLastRound() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> shell = KIT.spawn(Shell.create(8));
    shell.tell(new Hold("m", 2, probe.getRef()));
    shell.tell(new Work("1", probe.getRef()));
    shell.tell(new Ack());
    probe.expectMessage("held-m-2");
    shell.tell(new Query(probe.getRef()));
    probe.expectMessage("waiting, stashed 1");
    shell.tell(new Ack());
    probe.expectMessage("held-m-1");
    probe.expectMessage("work-1");
  }

  @Test
  void replayedCommandThatOpensARound_stashesTheRestAgainInOrder() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> shell = KIT.spawn(Shell.create(8));
    shell.tell(new Hold("a", 1, probe.getRef()));
    shell.tell(new Hold("b", 1, probe.getRef()));
    shell.tell(new Work("1", probe.getRef()));
    shell.tell(new Ack());
    probe.expectMessage("held-a-1");
    shell.tell(new Query(probe.getRef()));
    probe.expectMessage("waiting, stashed 1");
    shell.tell(new Ack());
    probe.expectMessage("held-b-1");
    probe.expectMessage("work-1");
  }

  @Test
  void terminatedWhileWaiting_goesToTheIdleBehaviour() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> shell = KIT.spawn(Shell.create(8));
    ActorRef<String> victim = KIT.spawn(Behaviors.<String>receiveMessage(s -> Behaviors.stopped()));
    shell.tell(new Watch(victim, probe.getRef()));
    shell.tell(new Hold("a", 1, probe.getRef()));
    shell.tell(new Query(probe.getRef()));
    probe.expectMessage("waiting, stashed 0");
    victim.tell("stop");
    probe.expectMessage("terminated");
    shell.tell(new Query(probe.getRef()));
    probe.expectMessage("waiting, stashed 0");
  }

  @Test
  void releaseWithNothingHeld_isANoOp() {
    TestProbe<String> probe = KIT.createTestProbe();
    ActorRef<Cmd> shell = KIT.spawn(Shell.create(8));
    shell.tell(new Ack());
    shell.tell(new Work("1", probe.getRef()));
    probe.expectMessage("work-1");
  }
}
