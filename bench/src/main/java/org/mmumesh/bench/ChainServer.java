package org.mmumesh.bench;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.mmumesh.common.CborSerializable;

/**
 * A server of the raw Pekko baseline ({@link RawChainBaseline}): it stands in for a mesh actor (a
 * {@code HostMmu}, a {@code GuestMmu} or the {@code PageFrame}) and does no work but answering.
 * Each {@link Request} is answered at once with a {@link ChainClient.Reply} carrying its request
 * id; a {@link Release} (the stand-in for {@code PageFrame.ReleaseLease}) is a one-way message that
 * is only counted. {@link GetCounts} tells how many of each arrived, so a run can be checked.
 *
 * <p>State: two counters. The messages are the same kind of thing as the mesh's (records with a
 * {@code long} request id and a {@code replyTo}, bound to Jackson CBOR), so the baseline pays what
 * the mesh pays for a message and nothing else.
 */
public final class ChainServer extends AbstractBehavior<ChainServer.Command> {

  /** What the server accepts. */
  public sealed interface Command extends CborSerializable {}

  /** One step of a chain: answered with {@code Reply(requestId)}. */
  public record Request(long requestId, int step, ActorRef<ChainClient.Reply> replyTo)
      implements Command {}

  /** A one-way message (no reply), as {@code ReleaseLease}. */
  public record Release(long lease) implements Command {}

  /** How many requests and releases arrived. */
  public record GetCounts(ActorRef<Counts> replyTo) implements Command {}

  /** The answer to {@link GetCounts}. */
  public record Counts(long requests, long releases) implements CborSerializable {}

  private long requests;
  private long releases;

  /** A server that answers every request at once. */
  public static Behavior<Command> create() {
    return Behaviors.setup(ChainServer::new);
  }

  private ChainServer(ActorContext<Command> ctx) {
    super(ctx);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Request.class, this::onRequest)
        .onMessage(Release.class, this::onRelease)
        .onMessage(GetCounts.class, this::onGetCounts)
        .build();
  }

  private Behavior<Command> onRequest(Request m) {
    requests++;
    m.replyTo().tell(new ChainClient.Reply(m.requestId()));
    return this;
  }

  private Behavior<Command> onRelease(Release m) {
    releases++;
    return this;
  }

  private Behavior<Command> onGetCounts(GetCounts m) {
    m.replyTo().tell(new Counts(requests, releases));
    return this;
  }
}
