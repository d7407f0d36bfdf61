package org.mmumesh.pageframe.actor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.mmumesh.pageframe.NotifierRound;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.pageframe.actor.FaultProtocol.NotifierAck;
import org.mmumesh.pageframe.actor.FaultProtocol.NotifierEvent;
import org.mmumesh.pageframe.actor.FaultProtocol.SubscribeNotifier;
import org.mmumesh.shell.HeldReplies;

/**
 * The {@link PageFrame}'s MMU-notifier fan-out (spec 5.7, see {@link FaultProtocol}): the
 * subscribers per VM (watched; one that stops is dropped), the invalidations the core emitted while
 * the current request ran, and the round in flight ({@link NotifierRound}) whose acknowledgements
 * the request's reply waits for, held by {@link HeldReplies} (the waiting behaviour stashes what
 * may change state). One round at a time; a round missing acks at its timeout is answered anyway.
 */
final class NotifierRounds {
  private final PageFrame shell;
  private final PageFrames core;
  private final ActorContext<PageFrame.Command> ctx;
  private final TimerScheduler<PageFrame.Command> timers;
  private final HeldReplies<PageFrame.Command> held;
  private final Duration ackTimeout;
  private final LongFunction<PageFrame.Command> timeoutMessage;
  private final ActorRef<NotifierAck> ackRef;
  private final Map<Integer, List<ActorRef<NotifierEvent>>> subscribers = new TreeMap<>();
  private final List<long[]> emitted = new ArrayList<>();

  /** The round in flight (its reply held by {@link #held}), or null. */
  private NotifierRound round;

  private long nextRoundId = 1;

  /**
   * @param timeoutMessage the message telling the shell that round {@code id}'s ack timeout passed
   */
  NotifierRounds(
      PageFrame shell,
      PageFrames core,
      ActorContext<PageFrame.Command> ctx,
      TimerScheduler<PageFrame.Command> timers,
      HeldReplies<PageFrame.Command> held,
      Duration ackTimeout,
      LongFunction<PageFrame.Command> timeoutMessage) {
    this.shell = shell;
    this.core = core;
    this.ctx = ctx;
    this.timers = timers;
    this.held = held;
    this.ackTimeout = ackTimeout;
    this.timeoutMessage = timeoutMessage;
    this.ackRef = ctx.getSelf().narrow();
    core.addNotifierListener(
        (vm, g0, g1) -> emitted.add(new long[] {vm, g0, g1, core.notifierSeq(vm)}));
  }

  /** Whether VM {@code vm} has a subscriber (its invalidations must be acknowledged). */
  /** Whether a round is in flight. */
  boolean inFlight() {
    return round != null;
  }

  boolean hasSubscribers(int vm) {
    List<ActorRef<NotifierEvent>> subs = subscribers.get(vm);
    return subs != null && !subs.isEmpty();
  }

  Behavior<PageFrame.Command> onSubscribe(SubscribeNotifier m) {
    String bad = m.vm() < 0 || m.vm() > PageFrames.MAX_VM ? PageFrame.badVm(m.vm()) : null;
    if (bad == null && m.subscriber() == null) {
      bad = "subscriber: null; required";
    }
    if (bad != null) {
      shell.count(ShellCounter.REJECTED);
      ctx.getLog().warn("SubscribeNotifier rejected: {}", bad);
      return shell;
    }
    List<ActorRef<NotifierEvent>> subs =
        subscribers.computeIfAbsent(m.vm(), v -> new ArrayList<>(2));
    if (!subs.contains(m.subscriber())) {
      subs.add(m.subscriber());
      ctx.watch(m.subscriber());
    }
    return shell;
  }

  /** A subscriber stopped: it is dropped (a round waiting for it ends at its timeout). */
  void onTerminated(ActorRef<?> subscriber) {
    for (List<ActorRef<NotifierEvent>> subs : subscribers.values()) {
      subs.remove(subscriber);
    }
  }

  Behavior<PageFrame.Command> onAck(NotifierAck m) {
    if (round == null || !round.ack(m.vm(), m.notifierSeq())) {
      shell.count(ShellCounter.NOTIFIER_ACKS_IGNORED);
      return shell;
    }
    return round.complete() ? finishRound() : shell;
  }

  Behavior<PageFrame.Command> onTimeout(long roundId) {
    if (round == null || round.id() != roundId) {
      return shell;
    }
    shell.count(ShellCounter.NOTIFIER_ACK_TIMEOUTS);
    shell.add(ShellCounter.NOTIFIER_ACKS_MISSING, round.outstanding());
    ctx.getLog()
        .warn(
            "MMU-notifier acks missing after {}: {}; answering anyway",
            ackTimeout,
            round.describeOwed());
    return finishRound();
  }

  /**
   * Sends {@code reply} now if the core emitted no notifier event (or nobody subscribes to the VMs
   * concerned); otherwise sends the events and holds the reply until they are acknowledged.
   */
  Behavior<PageFrame.Command> answer(Runnable reply) {
    if (emitted.isEmpty()) {
      core.completeInvalidations();
      reply.run();
      return shell;
    }
    NotifierRound r = new NotifierRound(nextRoundId++);
    for (long[] e : emitted) {
      int vm = (int) e[0];
      List<ActorRef<NotifierEvent>> subs = subscribers.get(vm);
      if (subs == null) {
        continue;
      }
      NotifierEvent ev = new NotifierEvent(vm, e[1], e[2], e[3], ackRef);
      for (ActorRef<NotifierEvent> s : subs) {
        s.tell(ev);
        r.expect(vm, e[3]);
        shell.count(ShellCounter.NOTIFIER_EVENTS_SENT);
      }
    }
    emitted.clear();
    if (r.complete()) {
      core.completeInvalidations();
      reply.run();
      return shell;
    }
    shell.count(ShellCounter.NOTIFIER_ROUNDS);
    round = r;
    timers.startSingleTimer(NotifierRound.class, timeoutMessage.apply(r.id()), ackTimeout);
    return held.hold(
        shell,
        () -> {
          core.completeInvalidations(); // the KSM merge handshake may go on
          reply.run();
        });
  }

  /** Ends the round: the held reply runs (it may start the next round), then the stash. */
  private Behavior<PageFrame.Command> finishRound() {
    timers.cancel(NotifierRound.class);
    round = null;
    return held.release();
  }
}
