package org.mmumesh.mesh;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The blocking asks {@link MeshCluster}'s run driver, result collection and invariant check make
 * from outside the actors, on one node's actor system: each bounded by {@link #ASK}, a request id
 * fresh from the cluster's counter where the command carries one, a refusal or a silence turned
 * into an {@link IllegalStateException} naming what was awaited.
 */
final class MeshAsks {
  /** The longest one ask waits. */
  static final Duration ASK = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final AtomicLong nextId;

  MeshAsks(ActorSystem<?> system, AtomicLong nextId) {
    this.system = system;
    this.nextId = nextId;
  }

  /** An ask from this node. */
  <Q, R> R ask(RecipientRef<Q> to, Function<ActorRef<R>, Q> message) {
    return ask(system, to, message);
  }

  /** An ask with a fresh request id, expecting a reply of {@code kind}. */
  <Q, R, T> T call(RecipientRef<Q> to, BiFunction<Long, ActorRef<R>, Q> message, Class<T> kind) {
    long rid = nextId.incrementAndGet();
    return expect(ask(system, to, (ActorRef<R> r) -> message.apply(rid, r)), kind);
  }

  static <Q, R> R ask(ActorSystem<?> system, RecipientRef<Q> to, Function<ActorRef<R>, Q> message) {
    CompletionStage<R> s = AskPattern.ask(to, message::apply, ASK, system.scheduler());
    return await(s.toCompletableFuture(), ASK.plusSeconds(5), "an answer to an ask");
  }

  static <T> T await(CompletableFuture<T> f, Duration timeout, String what) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("mesh: interrupted waiting for " + what, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "mesh: no "
              + what
              + " within "
              + timeout
              + ": "
              + (e.getCause() == null ? e : e.getCause()),
          e);
    }
  }

  static <T> T expect(Object reply, Class<T> kind) {
    if (!kind.isInstance(reply)) {
      throw new IllegalStateException(
          "mesh setup: expected " + kind.getSimpleName() + " but got " + reply);
    }
    return kind.cast(reply);
  }
}
