package org.mmumesh.mesh;

import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.MeshEvent;

/**
 * A watcher's handle on the event feed ({@link EventFeed#subscribe}): the events that pass its
 * filter, from every node of the cluster, wait in a bounded {@link EventBacklog} (drop-oldest,
 * counted) until {@link #poll taken}. {@code onAvailable} runs (on the watcher actor's thread; it
 * must not block) whenever the backlog stops being empty, so a consumer that drains until {@link
 * #poll} returns null and then waits for the callback never misses an event.
 *
 * <p>Delivery starts per node once that node attached the watcher ({@link #attachedNodes}, {@link
 * #attachedTo}): a watcher sees the events a node publishes after its attachment. Events of one
 * node arrive in the order that node published them per publishing actor; events of different nodes
 * interleave as they arrive. Thread-safe. {@link #close} is idempotent.
 */
public final class EventSubscription implements AutoCloseable {
  private final EventBacklog backlog;
  private final Runnable onAvailable;
  private final Set<String> attached = new TreeSet<>();
  private final CopyOnWriteArrayList<Waiter> waiters = new CopyOnWriteArrayList<>();
  private volatile ActorRef<EventWatcher.Command> watcher;
  private volatile boolean closed;

  private record Waiter(int nodes, CompletableFuture<Set<String>> done) {}

  EventSubscription(int capacity, Runnable onAvailable) {
    this.backlog = new EventBacklog(capacity);
    this.onAvailable = onAvailable == null ? () -> {} : onAvailable;
  }

  void bind(ActorRef<EventWatcher.Command> ref) {
    watcher = Objects.requireNonNull(ref, "ref");
  }

  /** From the watcher actor. */
  void offer(MeshEvent e) {
    if (!closed && backlog.offer(e)) {
      onAvailable.run();
    }
  }

  /** From the watcher actor: node {@code address} attached. */
  void attached(String address) {
    Set<String> now;
    synchronized (attached) {
      attached.add(address);
      now = Set.copyOf(attached);
    }
    for (Waiter w : waiters) {
      if (now.size() >= w.nodes() && w.done().complete(now)) {
        waiters.remove(w);
      }
    }
  }

  /** The oldest waiting event with its sequence number and drop count, or null if none. */
  public EventBacklog.Entry poll() {
    return backlog.poll();
  }

  /** Events dropped so far (the backlog was full). */
  public long dropped() {
    return backlog.dropped();
  }

  /** Events waiting. */
  public int waiting() {
    return backlog.size();
  }

  /** The addresses of the nodes that send this watcher their events. */
  public Set<String> attachedNodes() {
    synchronized (attached) {
      return Set.copyOf(attached);
    }
  }

  /**
   * Completes with the attached nodes once at least {@code nodes} are attached (a test or a caller
   * that must not miss early events waits for it before acting).
   */
  public CompletionStage<Set<String>> attachedTo(int nodes) {
    CompletableFuture<Set<String>> f = new CompletableFuture<>();
    waiters.add(new Waiter(nodes, f));
    Set<String> now = attachedNodes();
    if (now.size() >= nodes && f.complete(now)) {
      waiters.removeIf(w -> w.done() == f);
    }
    return f;
  }

  /** True once closed. */
  public boolean isClosed() {
    return closed;
  }

  /** Detaches from every node and stops the watcher; waiting events are dropped. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ActorRef<EventWatcher.Command> w = watcher;
    if (w != null) {
      w.tell(new EventWatcher.Stop());
    }
    for (Waiter x : waiters) {
      x.done().completeExceptionally(new IllegalStateException("subscription closed"));
    }
    waiters.clear();
  }
}
