package org.mmumesh.shell;

import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

/**
 * A reply held back until a round completes (an MMU-notifier round waiting for acks, a shootdown
 * waiting for vCPUs), written as a behaviour switch with a stash instead of {@code if (round !=
 * null)} at the top of every handler.
 *
 * <pre>
 *   Idle --hold(reply)--> Waiting --release()--> reply runs, stash replayed through Idle
 * </pre>
 *
 * <p>While waiting, a message the {@code atOnce} predicate admits (acks, timeouts, read-only
 * queries, releases) is handled by the idle behaviour at once; every other message is stashed and
 * replayed in arrival order after the round, or, when the stash is full, handed to {@code whenFull}
 * (which answers it with a rejection; nothing is applied). A handler run at once that completes the
 * round calls {@link #release()}; the held reply runs, and if it opened a new round (a multi-step
 * command) the actor stays waiting, otherwise the stash is replayed through the idle behaviour (a
 * replayed command may open the next round; the rest is then stashed again, in order).
 *
 * <p>Signals (a watched actor's {@code Terminated}) are always handled by the idle behaviour.
 *
 * <p>Not thread-safe; owned by one actor, used only from its message handlers.
 *
 * @param <C> the actor's command type
 */
public final class HeldReplies<C> {
  private final StashBuffer<C> stash;
  private final Predicate<? super C> atOnce;
  private final Consumer<? super C> whenFull;
  private final Behavior<C> waiting;
  private Behavior<C> idle;
  private Runnable held;

  /**
   * @param stash the actor's stash ({@code Behaviors.withStash})
   * @param atOnce messages handled by the idle behaviour even while a round is open
   * @param whenFull answers a message that found the stash full (it must change nothing)
   */
  public HeldReplies(
      StashBuffer<C> stash, Predicate<? super C> atOnce, Consumer<? super C> whenFull) {
    this.stash = Objects.requireNonNull(stash, "stash");
    this.atOnce = Objects.requireNonNull(atOnce, "atOnce");
    this.whenFull = Objects.requireNonNull(whenFull, "whenFull");
    this.waiting = Behaviors.receive(this::onWaiting, this::onSignal);
  }

  /** Whether a reply is held (the actor is in the waiting behaviour). */
  public boolean isWaiting() {
    return held != null;
  }

  /** The number of stashed messages. */
  public int stashed() {
    return stash.size();
  }

  /**
   * Holds {@code reply} until {@link #release()}: returns the waiting behaviour, which the handler
   * returns. {@code idle} is the behaviour to go back to (an {@code AbstractBehavior}'s {@code
   * this}).
   *
   * @throws IllegalStateException if a reply is already held (one round at a time)
   */
  public Behavior<C> hold(Behavior<C> idle, Runnable reply) {
    Objects.requireNonNull(reply, "reply");
    if (held != null) {
      throw new IllegalStateException("a reply is already held; one round at a time");
    }
    this.idle = Objects.requireNonNull(idle, "idle");
    this.held = reply;
    return waiting;
  }

  /**
   * Ends the round: runs the held reply, then goes back to the idle behaviour and replays the
   * stash, unless the reply held another one (then stays waiting). Returns the behaviour the
   * handler returns; a no-op returning {@link Behaviors#same()} when nothing is held.
   */
  public Behavior<C> release() {
    Runnable reply = held;
    if (reply == null) {
      return Behaviors.same();
    }
    held = null;
    reply.run();
    if (held != null) {
      return waiting;
    }
    return stash.unstashAll(idle);
  }

  private Behavior<C> onWaiting(ActorContext<C> ctx, C msg) {
    if (atOnce.test(msg)) {
      Behavior<C> next = Behavior.interpretMessage(idle, ctx, msg);
      // A handler that did not release the round returns the idle behaviour: stay waiting.
      return held != null ? Behaviors.same() : Behavior.canonicalize(next, idle, ctx);
    }
    if (stash.isFull()) {
      whenFull.accept(msg);
    } else {
      stash.stash(msg);
    }
    return Behaviors.same();
  }

  /** Signals (a watched subscriber's {@code Terminated}) go to the idle behaviour at once. */
  private Behavior<C> onSignal(ActorContext<C> ctx, Signal signal) {
    Behavior<C> next = Behavior.interpretSignal(idle, ctx, signal);
    return held != null ? Behaviors.same() : Behavior.canonicalize(next, idle, ctx);
  }
}
