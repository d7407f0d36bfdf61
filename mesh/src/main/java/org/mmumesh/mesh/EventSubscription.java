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
 * <p><b>Two ways in.</b> Events from this node's own actors are {@link #offerLocal offered} by the
 * publishing actor's thread straight into the backlog (an O(1) ring write, no message), and only a
 * backlog that was empty wakes the watcher actor, which runs {@code onAvailable}: a watcher whose
 * client reads nothing costs a publisher one filter test and one ring write per event, and never
 * wakes anyone. Events from other nodes arrive as messages to the watcher actor, which offers them.
 *
 * <p>Delivery starts per node once that node attached the watcher ({@link #attachedNodes}, {@link
 * #attachedTo}): a watcher sees the events a node publishes after its attachment. Events of one
 * node arrive in the order that node published them per publishing actor; events of different nodes
 * interleave as they arrive. Thread-safe. {@link #close} is idempotent.
 */
public final class EventSubscription implements AutoCloseable {
  private final EventGroup group;
  private final EventGroup.Cursor cursor;
  private final Runnable onAvailable;
  private final Runnable onClose;
  private final Set<String> attached = new TreeSet<>();
  private final CopyOnWriteArrayList<Waiter> waiters = new CopyOnWriteArrayList<>();
  private volatile ActorRef<EventWatcher.Command> watcher;
  private volatile boolean closed;
  // guarded by this: the events of other nodes, and this watcher's numbering
  private EventBacklog remote;
  private long remoteDropsCounted;
  private final long[] pendingDrops = {0};
  private long droppedCounted;
  private long lastSequence;

  private record Waiter(int nodes, CompletableFuture<Set<String>> done) {}

  EventSubscription(EventGroup group, Runnable onAvailable, Runnable onClose) {
    this.group = Objects.requireNonNull(group, "group");
    this.onAvailable = onAvailable == null ? () -> {} : onAvailable;
    this.onClose = Objects.requireNonNull(onClose, "onClose");
    this.cursor = group.cursor(this::wake);
  }

  void bind(ActorRef<EventWatcher.Command> ref) {
    watcher = Objects.requireNonNull(ref, "ref");
  }

  /** The group whose ring holds this node's events for this watcher. */
  EventGroup group() {
    return group;
  }

  /** From the group (a publisher's thread): the watcher actor runs {@code onAvailable}. */
  private void wake() {
    ActorRef<EventWatcher.Command> w = watcher;
    if (w != null && !closed) {
      w.tell(EventWatcher.Wake.INSTANCE);
    }
  }

  /** From the watcher actor, woken by the group. */
  void available() {
    if (!closed) {
      onAvailable.run();
    }
  }

  /** From the watcher actor: an event of another node (or one sent before the ring was known). */
  void offer(MeshEvent e) {
    if (closed) {
      return;
    }
    boolean wasEmpty;
    synchronized (this) {
      if (remote == null) {
        remote = new EventBacklog(group.key().capacity());
      }
      wasEmpty = remote.offer(e);
    }
    if (wasEmpty) {
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

  /**
   * The oldest waiting event with its sequence number and drop count, or null if none (then {@code
   * onAvailable} runs when one comes).
   */
  public synchronized EventBacklog.Entry poll() {
    MeshEvent e = null;
    if (remote != null) {
      EventBacklog.Entry r = remote.poll();
      if (r != null) {
        pendingDrops[0] += r.droppedBefore();
        remoteDropsCounted += r.droppedBefore();
        e = r.event();
      }
    }
    if (e == null) {
      e = cursor.take(pendingDrops);
    }
    if (e == null) {
      return null;
    }
    long dropped = pendingDrops[0];
    pendingDrops[0] = 0;
    droppedCounted += dropped;
    lastSequence += dropped + 1;
    return new EventBacklog.Entry(e, lastSequence, dropped);
  }

  /** Events dropped so far (lost before being taken). */
  public synchronized long dropped() {
    long remoteUncounted = remote == null ? 0 : remote.dropped() - remoteDropsCounted;
    return droppedCounted + pendingDrops[0] + cursor.lost() + remoteUncounted;
  }

  /** Events waiting. */
  public synchronized int waiting() {
    return cursor.waiting() + (remote == null ? 0 : remote.size());
  }

  /** The backlog's capacity, events (of this node's, and of the others'). */
  public int capacity() {
    return group.key().capacity();
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

  /**
   * Detaches from every node and stops the watcher; waiting events are dropped; the node's watcher
   * slot is free again.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    cursor.close();
    onClose.run();
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
