package org.mmumesh.mesh;

import java.util.Objects;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MeshEvent;

/**
 * One watcher's bounded queue of events (the event feed's only buffer): at most {@code capacity}
 * events wait; an event offered to a full backlog evicts the oldest, which is counted. Events are
 * numbered as they are offered (1, 2, ...), so a gap in the numbers of the events taken is exactly
 * the events dropped in between, reported with the next event taken as {@link Entry#droppedBefore}.
 * Dropped events are always older than every event still waiting (drop-oldest), so charging them to
 * the next event taken is exact.
 *
 * <p>Thread-safe (synchronized): the watcher's actor offers, the consumer (a gRPC stream) polls.
 * Memory is a fixed ring of {@code capacity} slots.
 */
public final class EventBacklog {

  /** The largest capacity. */
  public static final int MAX_CAPACITY = 1 << 20;

  /**
   * An event taken from the backlog.
   *
   * @param event the event
   * @param sequence its number among every event offered to this backlog (from 1)
   * @param droppedBefore events dropped since the previous event taken (older than this one)
   */
  public record Entry(MeshEvent event, long sequence, long droppedBefore) {}

  private final MeshEvent[] events;
  private final long[] sequences;
  private int head;
  private int size;
  private long offered;
  private long dropped;
  private long lastTaken;

  /** Checks {@code capacity}: 1 to {@link #MAX_CAPACITY}. */
  public static int checkCapacity(int capacity) {
    return (int) Checks.inRange("capacity", capacity, 1, MAX_CAPACITY);
  }

  /** An empty backlog of {@code capacity} (1 to {@link #MAX_CAPACITY}) events. */
  public EventBacklog(int capacity) {
    checkCapacity(capacity);
    events = new MeshEvent[capacity];
    sequences = new long[capacity];
  }

  /**
   * Appends {@code e}, evicting the oldest waiting event if full.
   *
   * @return true if the backlog was empty (the consumer may need waking)
   */
  public synchronized boolean offer(MeshEvent e) {
    Objects.requireNonNull(e, "e");
    boolean wasEmpty = size == 0;
    offered++;
    if (size == events.length) {
      events[head] = null;
      head = (head + 1) % events.length;
      size--;
      dropped++;
    }
    int tail = (head + size) % events.length;
    events[tail] = e;
    sequences[tail] = offered;
    size++;
    return wasEmpty;
  }

  /** The oldest waiting event, or null if none. */
  public synchronized Entry poll() {
    if (size == 0) {
      return null;
    }
    MeshEvent e = events[head];
    long seq = sequences[head];
    events[head] = null;
    head = (head + 1) % events.length;
    size--;
    Entry entry = new Entry(e, seq, seq - lastTaken - 1);
    lastTaken = seq;
    return entry;
  }

  /** Events waiting. */
  public synchronized int size() {
    return size;
  }

  /** Events offered so far. */
  public synchronized long offered() {
    return offered;
  }

  /** Events dropped so far (evicted unread). */
  public synchronized long dropped() {
    return dropped;
  }

  /** The capacity. */
  public int capacity() {
    return events.length;
  }
}
