package org.mmumesh.gateway;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.mesh.EventBacklog;
import org.mmumesh.mesh.EventFeed;
import org.mmumesh.mesh.EventSubscription;
import org.mmumesh.mesh.FootprintEstimator;
import org.mmumesh.mesh.MemoryBudget;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.EventKind;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * {@code mmumesh.v1.EventService} over the serving node's {@link EventFeed}: validate the filter
 * ({@link KsmRequests#filter}), check that a filtered host or VM exists, subscribe, and stream.
 *
 * <p><b>Flow control.</b> Each call owns one {@link EventSubscription} whose bounded backlog
 * ({@value EventFeed#DEFAULT_BACKLOG} events by default) is the only buffer: events are taken from
 * it only while the call {@code isReady()}; the {@code onReadyHandler} resumes sending, and the
 * subscription wakes the call when its backlog stops being empty. A client that reads slower than
 * the simulation publishes loses the oldest events, reported in the next response's {@code
 * dropped_before} (and as gaps in {@code sequence}); nothing grows and nothing in the simulation
 * waits for it. Cancelling the call (or the client going away) closes the subscription, which
 * detaches from every node.
 *
 * <p><b>Cost.</b> The feed applies the filter on the publishing node before anything is built, and
 * hands every watcher of a node the same event object; {@link EventEncoding} builds its response
 * once and every watcher that sends it reuses that encoding. A watcher whose client reads nothing
 * costs each event one filter test and one backlog write. Watchers per node are capped ({@code
 * mmumesh.events.max-watchers-per-node}, default {@value EventFeed#DEFAULT_MAX_WATCHERS}): one
 * beyond the cap gets RESOURCE_EXHAUSTED naming it.
 *
 * <p><b>Finding the feed.</b> Given explicitly, or found from the simulation's own node ({@code
 * Simulation.members().selfAddress()}, {@link EventFeed#forNode}) when the call starts: UNAVAILABLE
 * when that node runs no feed (a stub simulation).
 */
public final class EventService extends EventServiceGrpc.EventServiceImplBase {
  /**
   * Bytes of responses a watch may queue in the transport before it stops being ready (gRPC's
   * default is 32 KiB): events are about 60 bytes, so a client that stops reading makes the server
   * encode and queue about 70 events for it beyond what its HTTP/2 window took, not about 500; a
   * reading client is not slowed (bytes on the wire within its window do not count).
   */
  static final int ON_READY_THRESHOLD_BYTES = 4096;

  private final Simulation sim;
  private final EventFeed feed;
  private final int backlog;
  private final Set<Watch> open = ConcurrentHashMap.newKeySet();
  private final EventEncoding encoding = new EventEncoding();

  /** Serves the feed of {@code sim}'s node with the default backlog. */
  public EventService(Simulation sim) {
    this(sim, null, EventFeed.DEFAULT_BACKLOG);
  }

  /**
   * Serves {@code feed} (null: {@code sim}'s node's) with {@code backlog} events per watcher (1 to
   * {@link EventBacklog#MAX_CAPACITY}).
   */
  public EventService(Simulation sim, EventFeed feed, int backlog) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.feed = feed;
    this.backlog = (int) Checks.inRange("backlog", backlog, 1, EventBacklog.MAX_CAPACITY);
  }

  @Override
  public void watchEvents(WatchEventsRequest request, StreamObserver<WatchEventsResponse> raw) {
    ServerCallStreamObserver<WatchEventsResponse> out =
        (ServerCallStreamObserver<WatchEventsResponse>) raw;
    Watch w = new Watch(out, open, encoding);
    open.add(w);
    // handlers may only be set before this method returns
    out.setOnReadyThreshold(ON_READY_THRESHOLD_BYTES);
    out.setOnReadyHandler(w::drain);
    out.setOnCancelHandler(w::cancelled);
    MeshEvent.Filter filter;
    try {
      filter = meshFilter(KsmRequests.filter(request));
    } catch (RuntimeException e) {
      w.fail(e);
      return;
    }
    exists(filter)
        .thenCompose(x -> feed())
        .whenComplete(
            (f, err) -> {
              if (err != null) {
                w.fail(err);
              } else {
                try {
                  // the backlog is the watcher's buffer: reserved until the watch ends
                  w.held =
                      sim.memoryBudget()
                          .reserve(
                              "an event watcher",
                              "its backlog of " + backlog + " events",
                              FootprintEstimator.watcher(backlog));
                  w.start(f.subscribe(filter, backlog, w::drain));
                } catch (RuntimeException e) {
                  w.fail(e);
                }
              }
            });
  }

  /**
   * Ends every open watch with UNAVAILABLE ("the gateway is shutting down"): a feed never ends by
   * itself, so a graceful shutdown ends the watches first and lets the other calls drain.
   */
  public void endWatches() {
    for (Watch w : open) {
      w.fail(GatewayException.unavailable("the gateway is shutting down; watch another node"));
    }
  }

  private static MeshEvent.Filter meshFilter(KsmRequests.Filter f) {
    Set<MeshEvent.Kind> kinds = EnumSet.noneOf(MeshEvent.Kind.class);
    for (EventKind k : f.kinds()) {
      kinds.add(kindOf(k));
    }
    return new MeshEvent.Filter(
        kinds,
        f.hostId() == null ? MeshEvent.NONE : f.hostId(),
        f.vmId() == null ? MeshEvent.NONE : f.vmId());
  }

  /** NOT_FOUND for a filtered host or VM that does not exist now. */
  private CompletionStage<Void> exists(MeshEvent.Filter f) {
    CompletionStage<Void> s = CompletableFuture.completedFuture(null);
    if (f.hostId() != MeshEvent.NONE) {
      s =
          s.thenCompose(x -> sim.listHosts())
              .thenAccept(
                  hosts -> {
                    if (hosts.stream().noneMatch(h -> h.hostId() == f.hostId())) {
                      throw GatewayException.notFound("host " + f.hostId());
                    }
                  });
    }
    if (f.vmId() != MeshEvent.NONE) {
      s = s.thenCompose(x -> sim.getVm(f.vmId())).thenAccept(vm -> {});
    }
    return s;
  }

  private CompletionStage<EventFeed> feed() {
    if (feed != null) {
      return CompletableFuture.completedFuture(feed);
    }
    return sim.members()
        .thenApply(
            m ->
                EventFeed.forNode(m.selfAddress())
                    .orElseThrow(
                        () ->
                            GatewayException.unavailable(
                                "no event feed runs on node " + m.selfAddress())));
  }

  static MeshEvent.Kind kindOf(EventKind k) {
    return switch (k) {
      case EVENT_KIND_FAULT -> MeshEvent.Kind.FAULT;
      case EVENT_KIND_MAP -> MeshEvent.Kind.MAP;
      case EVENT_KIND_INVALIDATION -> MeshEvent.Kind.INVALIDATION;
      case EVENT_KIND_MERGE -> MeshEvent.Kind.MERGE;
      case EVENT_KIND_COW_BREAK -> MeshEvent.Kind.COW_BREAK;
      default -> throw GatewayException.badField("kinds", k + " is not an event kind");
    };
  }

  static EventKind kindOf(MeshEvent.Kind k) {
    return switch (k) {
      case FAULT -> EventKind.EVENT_KIND_FAULT;
      case MAP -> EventKind.EVENT_KIND_MAP;
      case INVALIDATION -> EventKind.EVENT_KIND_INVALIDATION;
      case MERGE -> EventKind.EVENT_KIND_MERGE;
      case COW_BREAK -> EventKind.EVENT_KIND_COW_BREAK;
    };
  }

  /**
   * One call: its subscription (set once subscribed) and whether it is over. {@link #drain} runs
   * from the gRPC executor (ready) and from the watcher actor (events arrived); it is synchronized,
   * so responses are never sent concurrently, and sends only while the call is ready.
   */
  private static final class Watch {
    private final ServerCallStreamObserver<WatchEventsResponse> out;
    private final Set<Watch> open;
    private final EventEncoding encoding;
    private EventSubscription sub;
    private volatile MemoryBudget.Reservation held;
    private boolean over;

    Watch(
        ServerCallStreamObserver<WatchEventsResponse> out,
        Set<Watch> open,
        EventEncoding encoding) {
      this.out = out;
      this.open = open;
      this.encoding = encoding;
    }

    synchronized void start(EventSubscription s) {
      if (over) {
        s.close();
        unhold();
        return;
      }
      sub = s;
      drain();
    }

    synchronized void drain() {
      if (over || sub == null) {
        return;
      }
      try {
        while (out.isReady()) {
          EventBacklog.Entry e = sub.poll();
          if (e == null) {
            return;
          }
          out.onNext(encoding.response(e));
        }
      } catch (RuntimeException e) {
        // the call went away between isReady and onNext (cancelled): stop quietly
        over = true;
        open.remove(this);
        sub.close();
        unhold();
      }
    }

    private void unhold() {
      if (held != null) {
        held.close();
      }
    }

    synchronized void cancelled() {
      over = true;
      open.remove(this);
      if (sub != null) {
        sub.close();
      }
      unhold();
    }

    synchronized void fail(Throwable t) {
      if (over) {
        return;
      }
      over = true;
      open.remove(this);
      if (sub != null) {
        sub.close();
      }
      unhold();
      try {
        out.onError(StatusMapper.toException(t));
      } catch (RuntimeException cancelled) {
        // already cancelled by the client
      }
    }
  }
}
