package org.mmumesh.common;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

/**
 * One node's event bus: where its actors publish {@link MeshEvent}s, and what decides whether
 * anybody anywhere in the cluster watches them. Pure Java (no Pekko), so that every actor module
 * can publish through it whatever else it depends on; the cluster side (who watches, delivery to
 * other nodes) is the mesh module's {@code EventFeed}, which keeps {@link #setWatchers the watcher
 * list} of every node's bus up to date.
 *
 * <p><b>Cost when nobody watches.</b> An actor writes {@code if (bus.active()) bus.publish(new
 * MeshEvent(...))}: {@link #active} is one volatile read of an array's length; no event is built,
 * nothing allocated, no message sent. The watcher array is replaced (copy on write) only when a
 * watcher comes or goes.
 *
 * <p><b>Delivery.</b> {@link #publish} runs on the publishing actor's thread: it fills in the host
 * of an event whose publisher did not know it ({@link #setHostOfVm}), then hands the event to each
 * watcher whose filter it passes. A watcher's sink must not block (the mesh's sink is an {@code
 * ActorRef.tell}); a sink that throws is counted in {@link #sinkFailures} and never reaches the
 * publisher. Events are not buffered here: bounding a slow watcher's backlog is the watcher's job.
 *
 * <p><b>Finding a node's bus.</b> {@link #of} maps a node (its actor system, passed as {@code
 * Object}) to its bus, by identity and weakly: a terminated node's bus is collected with it. The
 * actors look their bus up once, when they start.
 */
public final class MeshEventBus {

  /**
   * A watcher as this node sees it.
   *
   * @param filter applied here, before the event leaves the publishing node
   * @param sink receives the events that pass; must not block
   */
  public record Watcher(MeshEvent.Filter filter, Consumer<? super MeshEvent> sink) {
    /** Checks both are present. */
    public Watcher {
      Objects.requireNonNull(filter, "filter");
      Objects.requireNonNull(sink, "sink");
    }
  }

  private static final Watcher[] NOBODY = new Watcher[0];
  private static final IntUnaryOperator UNKNOWN_HOST = vm -> MeshEvent.NONE;

  private static final ReferenceQueue<Object> COLLECTED = new ReferenceQueue<>();
  private static final ConcurrentHashMap<NodeKey, MeshEventBus> NODES = new ConcurrentHashMap<>();

  private volatile Watcher[] watchers = NOBODY;
  private volatile IntUnaryOperator hostOfVm = UNKNOWN_HOST;
  private final AtomicLong sinkFailures = new AtomicLong();

  /** A bus of its own (tests; nodes use {@link #of}). */
  public MeshEventBus() {}

  /** The bus of {@code node} (an actor system), created on first use. */
  public static MeshEventBus of(Object node) {
    Objects.requireNonNull(node, "node");
    MeshEventBus bus = NODES.get(new NodeKey(node, null));
    if (bus != null) {
      return bus;
    }
    expunge();
    return NODES.computeIfAbsent(new NodeKey(node, COLLECTED), k -> new MeshEventBus());
  }

  /** Forgets {@code node}'s bus (when the node terminates); its watchers are dropped. */
  public static void forget(Object node) {
    MeshEventBus bus = NODES.remove(new NodeKey(node, null));
    if (bus != null) {
      bus.setWatchers(List.of());
    }
    expunge();
  }

  private static void expunge() {
    Object ref;
    while ((ref = COLLECTED.poll()) != null) {
      NODES.remove(ref);
    }
  }

  /** True if at least one watcher (on any node) wants events from this node. */
  public boolean active() {
    return watchers.length != 0;
  }

  /** Replaces the watchers (the mesh's EventFeed calls this when the cluster's watchers change). */
  public void setWatchers(List<Watcher> list) {
    watchers = list.isEmpty() ? NOBODY : list.toArray(Watcher[]::new);
  }

  /** The watchers now. */
  public List<Watcher> watchers() {
    return List.of(watchers);
  }

  /**
   * How this node finds the host of a VM (its directory), for events whose publisher does not know
   * its host; {@code null}: unknown ({@link MeshEvent#NONE}).
   */
  public void setHostOfVm(IntUnaryOperator resolver) {
    hostOfVm = resolver == null ? UNKNOWN_HOST : resolver;
  }

  /** Sinks that threw (their events were lost for them only). */
  public long sinkFailures() {
    return sinkFailures.get();
  }

  /** Hands {@code e} to every watcher whose filter it passes; never throws, never blocks. */
  public void publish(MeshEvent e) {
    Watcher[] ws = watchers;
    if (ws.length == 0) {
      return;
    }
    if (e.hostId() == MeshEvent.NONE && e.vmId() != MeshEvent.NONE) {
      int host;
      try {
        host = hostOfVm.applyAsInt(e.vmId());
      } catch (RuntimeException unknown) {
        host = MeshEvent.NONE;
      }
      if (host != MeshEvent.NONE) {
        e = e.withHost(host);
      }
    }
    for (Watcher w : ws) {
      if (w.filter().test(e)) {
        try {
          w.sink().accept(e);
        } catch (RuntimeException failed) {
          sinkFailures.incrementAndGet();
        }
      }
    }
  }

  /** A weak reference compared by the referent's identity. */
  private static final class NodeKey extends WeakReference<Object> {
    private final int hash;

    NodeKey(Object node, ReferenceQueue<Object> queue) {
      super(node, queue);
      this.hash = System.identityHashCode(node);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (this == o) {
        return true;
      }
      return o instanceof NodeKey k && k.hash == hash && k.get() != null && k.get() == get();
    }
  }
}
