package org.mmumesh.mesh;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

/**
 * The event feed of one node (a Pekko extension, started on every actor system that has the mesh on
 * its classpath through {@code pekko.actor.typed.library-extensions} in the mesh's {@code
 * reference.conf}): faults, maps, invalidations, KSM merges and COW breaks, as {@link MeshEvent}s,
 * from every node of the cluster to watchers on any node.
 *
 * <h2>Design</h2>
 *
 * <ul>
 *   <li><b>Publishing</b> ({@code Vcpu}, {@code HostMmu}, {@code PageFrame}) goes through the
 *       node's {@link MeshEventBus} (module {@code common}, no Pekko, so every actor module can use
 *       it): {@code if (bus.active()) bus.publish(event)}. Nobody watching costs one volatile read
 *       per exit or map; no event is built, no message sent.
 *   <li><b>Who watches</b> is pushed to the publishing nodes rather than discovered by them: each
 *       node's {@link EventFeedNode} registers with the Receptionist when the node starts; a new
 *       {@link EventWatcher} follows that listing and sends each node an {@code Attach} with its
 *       filter. The node puts the watcher (and its filter) into its bus, which becomes active, and
 *       answers {@code Attached}. The nodes are registered long before anyone watches, so a watcher
 *       reaches every node within one round trip, instead of waiting for its own registration to
 *       gossip through the cluster. A watcher leaves by {@code Detach}, or by dying (DeathWatch),
 *       which also covers its node leaving the cluster.
 *   <li><b>Delivery</b> is a {@code tell} from the publishing actor's thread straight to the
 *       watcher (CBOR across nodes), after the publishing node applied the watcher's filter: events
 *       nobody wants never leave their node. Pekko's {@code Topic} was the alternative: it runs on
 *       the same Receptionist, but its subscriber count can only be polled ({@code GetTopicStats}),
 *       which cannot give a publisher a cheap "is anyone watching" flag, it adds a hop through the
 *       local topic actor per event and it cannot filter at the source. The cost of the direct
 *       route is that a watcher's filter is copied to every node.
 *   <li><b>Bounded memory</b>: an actor never blocks on an event; each watcher's events wait in its
 *       own fixed-size {@link EventBacklog} that drops the oldest (counted, and reported with the
 *       next event as {@code droppedBefore}). The watcher actor's mailbox only holds what arrived
 *       since its last turn, each costing an O(1) offer.
 *   <li><b>Hosts</b>: vCPUs and host MMUs do not know their host; the bus fills it in from this
 *       node's {@link MeshDirectory} (every VM is registered on every node before its entities are
 *       addressed), when this node is a mesh node.
 * </ul>
 *
 * <p>Feeds are found with {@link #get} from an actor system, or {@link #forNode} from a node's
 * cluster address (what {@link MeshCluster#address} and {@code Simulation.members()} report).
 */
public final class EventFeed implements Extension {

  /** The per-watcher backlog the gRPC feed uses (proto {@code WatchEvents}). */
  public static final int DEFAULT_BACKLOG = 10_000;

  private static final Set<EventFeed> LIVE = ConcurrentHashMap.newKeySet();
  private static final AtomicLong WATCHER_IDS = new AtomicLong();

  private final ActorSystem<?> system;
  private final MeshEventBus bus;

  /** The extension id; {@link #getInstance} is what Pekko's extension loader calls. */
  public static final class Id extends ExtensionId<EventFeed> {
    private static final Id INSTANCE = new Id();

    private Id() {}

    /** The one id (Pekko loads Java extension ids through this accessor). */
    public static Id getInstance() {
      return INSTANCE;
    }

    @Override
    public EventFeed createExtension(ActorSystem<?> system) {
      return new EventFeed(system);
    }
  }

  private EventFeed(ActorSystem<?> system) {
    this.system = system;
    this.bus = MeshEventBus.of(system);
    String address = system.address().toString();
    system.systemActorOf(EventFeedNode.create(bus, address), "mmumesh-event-feed", Props.empty());
    if (MeshEngine.SYSTEM_NAME.equals(system.name())) {
      resolveHostsFromDirectory();
    }
    LIVE.add(this);
    system
        .getWhenTerminated()
        .whenComplete(
            (done, err) -> {
              LIVE.remove(this);
              MeshEventBus.forget(system);
            });
  }

  /**
   * On a mesh node, the user guardian is a {@link Guardian}: its glue's directory tells the host of
   * each VM. Asked once, asynchronously; until answered events keep an unknown host.
   */
  @SuppressWarnings("unchecked")
  private void resolveHostsFromDirectory() {
    ActorRef<Guardian.Command> guardian = (ActorRef<Guardian.Command>) (ActorRef<?>) system;
    org.apache.pekko.actor.typed.javadsl.AskPattern.<Guardian.Command, NodeGlue>ask(
            guardian, Guardian.GetGlue::new, java.time.Duration.ofSeconds(30), system.scheduler())
        .thenAccept(
            glue ->
                bus.setHostOfVm(
                    vm ->
                        glue.directory()
                            .vm(vm)
                            .map(MeshDirectory.VmEntry::hostId)
                            .orElse(MeshEvent.NONE)));
  }

  /** The feed of {@code system}. */
  public static EventFeed get(ActorSystem<?> system) {
    return Id.getInstance().apply(system);
  }

  /** The feed of the running node whose cluster address is {@code address}, if in this JVM. */
  public static Optional<EventFeed> forNode(String address) {
    for (EventFeed f : LIVE) {
      if (f.system.address().toString().equals(address)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  /** {@link #forNode(String)} of an {@link Address}. */
  public static Optional<EventFeed> forNode(Address address) {
    return forNode(address.toString());
  }

  /** This node's bus (where its actors publish). */
  public MeshEventBus bus() {
    return bus;
  }

  /** This node's address. */
  public String address() {
    return system.address().toString();
  }

  /**
   * Starts watching the whole cluster from this node.
   *
   * @param filter which events (kinds, host, VM)
   * @param capacity the backlog, 1 to {@link EventBacklog#MAX_CAPACITY} events
   * @param onAvailable run when the backlog stops being empty (must not block); may be null
   */
  public EventSubscription subscribe(MeshEvent.Filter filter, int capacity, Runnable onAvailable) {
    Objects.requireNonNull(filter, "filter");
    EventSubscription s = new EventSubscription(capacity, onAvailable);
    ActorRef<EventWatcher.Command> ref =
        system.systemActorOf(
            EventWatcher.create(filter, s),
            "mmumesh-event-watcher-" + WATCHER_IDS.incrementAndGet(),
            Props.empty());
    s.bind(ref);
    return s;
  }
}
