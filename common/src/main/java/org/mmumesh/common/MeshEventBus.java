package org.mmumesh.common;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p><b>Cost when nobody watches.</b> An actor writes {@code if (bus.wants(Kind.FAULT, vm))
 * bus.publish(new MeshEvent(...))}: {@link #wants} is one volatile read and a mask test (the union
 * of the watchers' kind and VM filters, computed when the watchers change); no event is built,
 * nothing allocated, no message sent unless some watcher's filter can pass it. A host filter cannot
 * be applied before the event is built (vCPUs and host MMUs do not know their host): such a watcher
 * counts as wanting its kinds from every VM, and {@link #publish} applies the full filter. The
 * watcher array is replaced (copy on write) only when a watcher comes or goes.
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

  private static final Interest NO_INTEREST = new Interest(0, Map.of());

  /**
   * The union of the watchers' filters by kind and VM, as bit masks of {@code 1 << kind.ordinal()}:
   * {@code anyVm} for watchers of every VM (or of a host), {@code byVm} for watchers of one VM.
   */
  private record Interest(int anyVm, Map<Integer, Integer> byVm) {
    static Interest of(Watcher[] ws) {
      int any = 0;
      Map<Integer, Integer> byVm = new HashMap<>();
      for (Watcher w : ws) {
        int mask = 0;
        if (w.filter().kinds().isEmpty()) {
          mask = (1 << MeshEvent.Kind.values().length) - 1;
        } else {
          for (MeshEvent.Kind k : w.filter().kinds()) {
            mask |= 1 << k.ordinal();
          }
        }
        if (w.filter().vmId() == MeshEvent.NONE) {
          any |= mask;
        } else {
          byVm.merge(w.filter().vmId(), mask, (a, b) -> a | b);
        }
      }
      return new Interest(any, Map.copyOf(byVm));
    }
  }

  private volatile Watcher[] watchers = NOBODY;
  private volatile Interest interest = NO_INTEREST;
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

  /**
   * True if some watcher's filter can pass an event of {@code kind} about VM {@code vmId} ({@link
   * MeshEvent#NONE}: no VM): publishers ask this before they build the event.
   */
  public boolean wants(MeshEvent.Kind kind, int vmId) {
    Interest i = interest;
    int bit = 1 << kind.ordinal();
    if ((i.anyVm() & bit) != 0) {
      return true;
    }
    if (vmId == MeshEvent.NONE || i.byVm().isEmpty()) {
      return false;
    }
    Integer mask = i.byVm().get(vmId);
    return mask != null && (mask & bit) != 0;
  }

  /** Replaces the watchers (the mesh's EventFeed calls this when the cluster's watchers change). */
  public void setWatchers(List<Watcher> list) {
    Watcher[] ws = list.isEmpty() ? NOBODY : list.toArray(Watcher[]::new);
    // interest first: a publisher that sees the new watchers must not be refused by the old mask
    // for long, and one that sees the old watchers with the new mask only builds an unused event
    interest = ws.length == 0 ? NO_INTEREST : Interest.of(ws);
    watchers = ws;
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
