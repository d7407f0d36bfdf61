package org.mmumesh.bench;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.mmumesh.common.CborSerializable;

/**
 * A client of the raw Pekko baseline ({@link RawChainBaseline}): the stand-in for one vCPU in a
 * fault. It runs {@code chains} chains one after the other; a chain is one tell-based request/reply
 * pair to each server of {@code route} in order (one request outstanding at a time, as a vCPU has),
 * then one one-way {@link ChainServer.Release} to {@code releaseTo}. When the last chain is done it
 * completes {@code done} with the number of chains completed.
 *
 * <p>State: the chain and step in progress and the request id expected. A reply whose id is not the
 * expected one is ignored (it cannot happen here: nothing is retried). No timers, no retries, no
 * message adapter: this is the floor the mesh's fault path is compared with.
 */
public final class ChainClient extends AbstractBehavior<ChainClient.Command> {

  /** What the client accepts. */
  public sealed interface Command extends CborSerializable {}

  /** A server's answer to {@link ChainServer.Request}. */
  public record Reply(long requestId) implements Command {}

  private final List<ActorRef<ChainServer.Command>> route;
  private final ActorRef<ChainServer.Command> releaseTo;
  private final long chains;
  private final CompletableFuture<Long> done;
  private final ActorRef<Reply> self;
  private long completed;
  private int step;
  private long nextId = 1;
  private long expected;

  /**
   * A client that starts at once.
   *
   * @param route the servers asked in each chain, in order (at least one)
   * @param releaseTo the server told a {@link ChainServer.Release} at the end of each chain, or
   *     null for none
   * @param chains chains to run (at least one)
   * @param done completed with the chains completed
   */
  public static Behavior<Command> create(
      List<ActorRef<ChainServer.Command>> route,
      ActorRef<ChainServer.Command> releaseTo,
      long chains,
      CompletableFuture<Long> done) {
    if (route.isEmpty() || chains < 1) {
      throw new IllegalArgumentException(
          "route: " + route.size() + " servers, chains: " + chains + "; allowed at least 1 each");
    }
    return Behaviors.setup(ctx -> new ChainClient(ctx, route, releaseTo, chains, done));
  }

  private ChainClient(
      ActorContext<Command> ctx,
      List<ActorRef<ChainServer.Command>> route,
      ActorRef<ChainServer.Command> releaseTo,
      long chains,
      CompletableFuture<Long> done) {
    super(ctx);
    this.route = List.copyOf(route);
    this.releaseTo = releaseTo;
    this.chains = chains;
    this.done = done;
    this.self = ctx.getSelf().narrow();
    send();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Reply.class, this::onReply).build();
  }

  private void send() {
    expected = nextId++;
    route.get(step).tell(new ChainServer.Request(expected, step, self));
  }

  private Behavior<Command> onReply(Reply m) {
    if (m.requestId() != expected) {
      return this;
    }
    if (++step < route.size()) {
      send();
      return this;
    }
    step = 0;
    if (releaseTo != null) {
      releaseTo.tell(new ChainServer.Release(expected));
    }
    if (++completed == chains) {
      done.complete(completed);
      return Behaviors.stopped();
    }
    send();
    return this;
  }
}
