package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

/**
 * One node's end of the event feed (one per actor system, started by {@link EventFeed}): it keeps
 * its node's {@link MeshEventBus} told which watchers, anywhere in the cluster, want events from
 * here and with which filter. Registered with the Receptionist under {@link #KEY}, so that a new
 * {@link EventWatcher} finds every node at once (nodes register when they start, long before a
 * watcher comes) and {@link Attach attaches} to each.
 *
 * <p>State: the attached watchers and their filters (the bus holds a copy as {@link
 * MeshEventBus.Watcher}s: one per {@link EventGroup} of this node's watchers, whose sink writes the
 * group's ring once for all its members (no message per event), and one per watcher of another
 * node, whose sink is a {@code tell} of {@link EventWatcher.Deliver}). A watcher leaves by {@link
 * Detach} or by terminating (DeathWatch, which also covers a watcher's node leaving the cluster).
 * {@link Attach} is idempotent (a second one replaces the filter) and is answered {@link
 * EventWatcher.Attached} with this node's address.
 */
public final class EventFeedNode extends AbstractBehavior<EventFeedNode.Command> {

  /** The Receptionist key every node's feed is registered under. */
  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "mmumesh-event-feed-nodes");

  /** What a node's feed accepts (from watchers on any node). */
  public sealed interface Command extends CborSerializable {}

  /** Sends {@code watcher} this node's events that pass {@code filter} (from now on). */
  public record Attach(ActorRef<EventWatcher.Command> watcher, MeshEvent.Filter filter)
      implements Command {}

  /** Stops sending events to {@code watcher} (idempotent). */
  public record Detach(ActorRef<EventWatcher.Command> watcher) implements Command {}

  /**
   * The node's feed over {@code bus}; {@code address} names the node in replies; {@code local}
   * finds the subscription of a watcher of this node (null for others).
   */
  public static Behavior<Command> create(
      MeshEventBus bus,
      String address,
      Function<ActorRef<EventWatcher.Command>, EventSubscription> local) {
    Objects.requireNonNull(bus, "bus");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(local, "local");
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
          return new EventFeedNode(ctx, bus, address, local);
        });
  }

  private final ActorContext<Command> ctx;
  private final MeshEventBus bus;
  private final String address;
  private final Function<ActorRef<EventWatcher.Command>, EventSubscription> local;
  private final Map<ActorRef<EventWatcher.Command>, MeshEvent.Filter> watchers =
      new LinkedHashMap<>();

  private EventFeedNode(
      ActorContext<Command> ctx,
      MeshEventBus bus,
      String address,
      Function<ActorRef<EventWatcher.Command>, EventSubscription> local) {
    super(ctx);
    this.ctx = ctx;
    this.bus = bus;
    this.address = address;
    this.local = local;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attach.class, this::onAttach)
        .onMessage(Detach.class, this::onDetach)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  private Behavior<Command> onAttach(Attach m) {
    if (m.watcher() == null || m.filter() == null) {
      ctx.getLog().warn("event feed: Attach without watcher or filter ignored");
      return this;
    }
    if (!watchers.containsKey(m.watcher())) {
      ctx.watch(m.watcher());
    }
    watchers.put(m.watcher(), m.filter());
    publishWatchers();
    m.watcher().tell(new EventWatcher.Attached(address));
    return this;
  }

  private Behavior<Command> onDetach(Detach m) {
    if (m.watcher() != null && watchers.remove(m.watcher()) != null) {
      ctx.unwatch(m.watcher());
      publishWatchers();
    }
    return this;
  }

  private Behavior<Command> onTerminated(Terminated t) {
    if (watchers.remove(t.getRef()) != null) {
      publishWatchers();
    }
    return this;
  }

  private void publishWatchers() {
    List<MeshEventBus.Watcher> list = new ArrayList<>(watchers.size());
    Set<EventGroup> groups = Collections.newSetFromMap(new IdentityHashMap<>());
    watchers.forEach(
        (ref, filter) -> {
          EventSubscription mine = local.apply(ref);
          if (mine == null) {
            list.add(new MeshEventBus.Watcher(filter, e -> ref.tell(new EventWatcher.Deliver(e))));
          } else if (groups.add(mine.group())) {
            list.add(new MeshEventBus.Watcher(mine.group().key().filter(), mine.group()::append));
          }
        });
    bus.setWatchers(list);
  }
}
