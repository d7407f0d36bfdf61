package org.mmumesh.mesh;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 *   <li><b>Delivery</b> happens on the publishing actor's thread, after the publishing node applied
 *       the watcher's filter (and before building the event, {@link MeshEventBus#wants}, the union
 *       of the filters by kind and VM): events nobody wants are never built and never leave their
 *       node. To the watchers of the same node it is one write into the ring of each {@link
 *       EventGroup} (the watchers with the same filter and backlog size share one), no message,
 *       whatever the number of watchers; to a watcher of another node a {@code tell} (CBOR).
 *       Pekko's {@code Topic} was the alternative: it runs on the same Receptionist, but its
 *       subscriber count can only be polled ({@code GetTopicStats}), which cannot give a publisher
 *       a cheap "is anyone watching" flag, it adds a hop through the local topic actor per event
 *       and it cannot filter at the source. The cost of the direct route is that a watcher's filter
 *       is copied to every node.
 *   <li><b>Bounded memory and cost</b>: an actor never blocks on an event; each watcher's events
 *       wait in its own fixed-size {@link EventBacklog} that drops the oldest (counted, and
 *       reported with the next event as {@code droppedBefore}); for this node's events that backlog
 *       is a cursor into its group's shared ring ({@value #DEFAULT_BACKLOG} references by default).
 *       A watcher that reads nothing costs an event nothing beyond its group's one write, and holds
 *       a cursor (plus its share of its group's ring).
 *   <li><b>A cap on watchers</b> per node ({@code mmumesh.events.max-watchers-per-node}, default
 *       {@value #DEFAULT_MAX_WATCHERS}): watchers with different filters each cost every event a
 *       filter test and a ring write on the publisher's thread, and readers cost an encoding and a
 *       send per event, so the cap bounds what watchers can add to the simulation's own work and
 *       the memory they hold (issue 10's benchmark measures unread watchers at and beyond it); a
 *       subscription beyond it is refused with {@link SimulationException.Kind#LIMIT}, naming the
 *       cap.
 *   <li><b>Hosts</b>: vCPUs and host MMUs do not know their host; the bus fills it in from this
 *       node's {@link MeshDirectory} (every VM is registered on every node before its entities are
 *       addressed), when this node is a mesh node.
 * </ul>
 *
 * <p>Feeds are found with {@link #get} from an actor system, or {@link #forNode} from a node's
 * cluster address (what {@link MeshCluster#address} and {@code Simulation.members()} report).
 */
public final class EventFeed implements Extension {

  /**
   * The per-watcher backlog the gRPC feed uses (proto {@code WatchEvents}), events. Small on
   * purpose: the transport buffers a reading client's next events as well (gRPC's 32 KiB send
   * threshold and the HTTP/2 window, several hundred events of about 60 bytes), so the backlog only
   * absorbs bursts; a client that stops reading loses the oldest, counted.
   */
  public static final int DEFAULT_BACKLOG = 1024;

  /** Watchers per node unless {@code mmumesh.events.max-watchers-per-node} says otherwise. */
  public static final int DEFAULT_MAX_WATCHERS = 64;

  /** The configuration path of the cap on watchers per node. */
  public static final String MAX_WATCHERS_PATH = "mmumesh.events.max-watchers-per-node";

  private static final Set<EventFeed> LIVE = ConcurrentHashMap.newKeySet();
  private static final AtomicLong WATCHER_IDS = new AtomicLong();

  private final ActorSystem<?> system;
  private final MeshEventBus bus;
  private final int maxWatchers;
  private final AtomicInteger watchers = new AtomicInteger();
  // by actor name, registered before the watcher actor exists (its Attach may beat the spawn's
  // return): the feed node must never take one of this node's watchers for another node's
  private final ConcurrentHashMap<String, EventSubscription> local = new ConcurrentHashMap<>();
  private final Map<EventGroup.Key, EventGroup> groups = new HashMap<>(); // guarded by itself

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
    this.maxWatchers = maxWatchers(system.settings().config());
    String address = system.address().toString();
    system.systemActorOf(
        EventFeedNode.create(
            bus,
            address,
            ref -> ref.path().address().hasLocalScope() ? local.get(ref.path().name()) : null),
        "mmumesh-event-feed",
        Props.empty());
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

  /** The cap of {@code config} ({@value #MAX_WATCHERS_PATH}), checked: 1 to 65536. */
  static int maxWatchers(com.typesafe.config.Config config) {
    if (!config.hasPath(MAX_WATCHERS_PATH)) {
      return DEFAULT_MAX_WATCHERS;
    }
    int n = config.getInt(MAX_WATCHERS_PATH);
    if (n < 1 || n > 65536) {
      throw new IllegalArgumentException(
          MAX_WATCHERS_PATH + ": " + n + " is outside the allowed range 1 .. 65536");
    }
    return n;
  }

  /** The cap on this node's watchers. */
  public int maxWatchers() {
    return maxWatchers;
  }

  /** Watchers subscribed on this node now. */
  public int watchers() {
    return watchers.get();
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
   * @throws SimulationException {@link SimulationException.Kind#LIMIT} when this node already has
   *     {@link #maxWatchers} watchers
   */
  public EventSubscription subscribe(MeshEvent.Filter filter, int capacity, Runnable onAvailable) {
    Objects.requireNonNull(filter, "filter");
    EventBacklog.checkCapacity(capacity);
    if (watchers.incrementAndGet() > maxWatchers) {
      watchers.decrementAndGet();
      throw new SimulationException(
          SimulationException.Kind.LIMIT,
          "event watchers: this node already serves its cap of "
              + maxWatchers
              + " watchers ("
              + MAX_WATCHERS_PATH
              + "); end a watch, or watch through another node");
    }
    EventGroup group;
    synchronized (groups) {
      group = groups.computeIfAbsent(new EventGroup.Key(filter, capacity), EventGroup::new);
      group.join();
    }
    String name = "mmumesh-event-watcher-" + WATCHER_IDS.incrementAndGet();
    EventGroup g = group;
    EventSubscription s =
        new EventSubscription(
            g,
            onAvailable,
            () -> {
              watchers.decrementAndGet();
              synchronized (groups) {
                if (g.leave() == 0) {
                  groups.remove(g.key(), g);
                }
              }
              local.remove(name);
            });
    local.put(name, s);
    ActorRef<EventWatcher.Command> ref =
        system.systemActorOf(EventWatcher.create(filter, s), name, Props.empty());
    s.bind(ref);
    return s;
  }
}
