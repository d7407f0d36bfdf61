package org.mmumesh.mesh;

import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.MeshEvent;

/**
 * One watcher of the event feed (one per {@link EventSubscription}, on the subscriber's node): it
 * follows the Receptionist's listing of {@link EventFeedNode#KEY}, {@link EventFeedNode.Attach
 * attaches} to every node's feed (nodes that join later included) with its filter, and puts the
 * events it receives into its subscription's bounded {@link EventBacklog} (drop-oldest), waking the
 * consumer when the backlog stops being empty.
 *
 * <p>State: the node feeds attached to. Its own node's events do not pass through it: the
 * publishers offer them to the backlog directly and {@link Wake} it when the backlog was empty. Its
 * mailbox holds only what arrived from other nodes since its last turn: each {@link Deliver} costs
 * an O(1) offer, so the backlog, not the mailbox, is where a slow consumer's events wait and are
 * dropped. {@link Stop} detaches from every node and stops (nodes also notice its termination by
 * DeathWatch).
 */
public final class EventWatcher extends AbstractBehavior<EventWatcher.Command> {

  /** What a watcher accepts. */
  public sealed interface Command {}

  /** An event from a node's bus. */
  public record Deliver(MeshEvent event) implements Command, CborSerializable {}

  /** The node at {@code address} sends this watcher its events from now on. */
  public record Attached(String address) implements Command, CborSerializable {}

  /** This node's events are waiting in the backlog, which was empty (local). */
  enum Wake implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Detach from every node and stop (local). */
  record Stop() implements Command, NoSerializationVerificationNeeded {}

  private record Listed(Receptionist.Listing listing)
      implements Command, NoSerializationVerificationNeeded {}

  static Behavior<Command> create(MeshEvent.Filter filter, EventSubscription subscription) {
    Objects.requireNonNull(filter, "filter");
    Objects.requireNonNull(subscription, "subscription");
    return Behaviors.setup(
        ctx -> {
          ActorRef<Receptionist.Listing> adapter =
              ctx.messageAdapter(Receptionist.Listing.class, Listed::new);
          ctx.getSystem().receptionist().tell(Receptionist.subscribe(EventFeedNode.KEY, adapter));
          return new EventWatcher(ctx, filter, subscription);
        });
  }

  private final ActorContext<Command> ctx;
  private final MeshEvent.Filter filter;
  private final EventSubscription subscription;
  private final Set<ActorRef<EventFeedNode.Command>> nodes = new HashSet<>();

  private EventWatcher(
      ActorContext<Command> ctx, MeshEvent.Filter filter, EventSubscription subscription) {
    super(ctx);
    this.ctx = ctx;
    this.filter = filter;
    this.subscription = subscription;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Wake.class, this::onWake)
        .onMessage(Listed.class, this::onListed)
        .onMessage(Attached.class, this::onAttached)
        .onMessage(Stop.class, this::onStop)
        .build();
  }

  private Behavior<Command> onDeliver(Deliver m) {
    subscription.offer(m.event());
    return this;
  }

  private Behavior<Command> onWake(Wake m) {
    subscription.available();
    return this;
  }

  private Behavior<Command> onListed(Listed m) {
    Set<ActorRef<EventFeedNode.Command>> now = m.listing().getServiceInstances(EventFeedNode.KEY);
    for (ActorRef<EventFeedNode.Command> node : now) {
      if (nodes.add(node)) {
        node.tell(new EventFeedNode.Attach(ctx.getSelf(), filter));
      }
    }
    nodes.retainAll(now);
    return this;
  }

  private Behavior<Command> onAttached(Attached m) {
    subscription.attached(m.address());
    return this;
  }

  private Behavior<Command> onStop(Stop m) {
    for (ActorRef<EventFeedNode.Command> node : nodes) {
      node.tell(new EventFeedNode.Detach(ctx.getSelf()));
    }
    return Behaviors.stopped();
  }
}
