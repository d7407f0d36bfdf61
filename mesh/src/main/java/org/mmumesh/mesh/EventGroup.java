package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.MeshEvent;

/**
 * The watchers of one node that have the same filter and backlog size share one ring of events:
 * each event of the node that passes the filter is written once ({@link #append}, on the publishing
 * actor's thread), whatever the number of watchers, and each watcher is only a cursor into the ring
 * ({@link Cursor}). The ring keeps the last {@code capacity} events; a cursor that falls further
 * behind loses the oldest, exactly as a private drop-oldest backlog of that size would (the group
 * sees the same events in the same order as each of its watchers would), so the per-watcher
 * sequence numbers and drop counts are unchanged by the sharing.
 *
 * <p>Waking: a cursor that found nothing to take registers as waiting; the next append wakes the
 * waiting cursors (outside the lock) and forgets them. A watcher whose client reads nothing never
 * waits, so it costs an append nothing at all. Thread-safe (one lock per group).
 *
 * <p>Memory: one array of {@code capacity} references per group; per watcher a few fields.
 */
final class EventGroup {
  /** The key of a group: watchers with equal filters and capacities share one. */
  record Key(MeshEvent.Filter filter, int capacity) {}

  private final Key key;
  private final MeshEvent[] ring;
  private long head; // events appended so far; the ring holds [head - size, head)
  private int size;
  private int members; // guarded by the feed's lock, not this one
  private final List<Cursor> waiting = new ArrayList<>();

  EventGroup(Key key) {
    this.key = key;
    this.ring = new MeshEvent[EventBacklog.checkCapacity(key.capacity())];
  }

  Key key() {
    return key;
  }

  /** Members (the feed counts them under its own lock). */
  int members() {
    return members;
  }

  void join() {
    members++;
  }

  int leave() {
    return --members;
  }

  /** Writes {@code e} (which passed the filter) once for every member; wakes the waiting ones. */
  void append(MeshEvent e) {
    Cursor[] wake;
    synchronized (this) {
      ring[(int) (head % ring.length)] = e;
      head++;
      if (size < ring.length) {
        size++;
      }
      if (waiting.isEmpty()) {
        return;
      }
      wake = waiting.toArray(Cursor[]::new);
      waiting.clear();
    }
    for (Cursor c : wake) {
      c.wake.run();
    }
  }

  /** A new member's cursor: it sees the events appended from now on. */
  synchronized Cursor cursor(Runnable wake) {
    return new Cursor(this, head, wake);
  }

  /** One watcher's position in its group's ring. Not thread-safe: one consumer. */
  static final class Cursor {
    private final EventGroup group;
    private final Runnable wake;
    private long next; // the group position of the next event to take

    private Cursor(EventGroup group, long next, Runnable wake) {
      this.group = group;
      this.next = next;
      this.wake = wake;
    }

    /**
     * Takes the next event, adding the events lost before it to {@code dropped[0]}; null (and
     * registered to be woken by the next append) when none is there.
     */
    MeshEvent take(long[] dropped) {
      synchronized (group) {
        long oldest = group.head - group.size;
        if (next < oldest) {
          dropped[0] += oldest - next;
          next = oldest;
        }
        if (next == group.head) {
          if (!group.waiting.contains(this)) {
            group.waiting.add(this);
          }
          return null;
        }
        MeshEvent e = group.ring[(int) (next % group.ring.length)];
        next++;
        return e;
      }
    }

    /** Events lost so far and not yet taken into account ({@link #take} counts them). */
    long lost() {
      synchronized (group) {
        return Math.max(0, group.head - group.size - next);
      }
    }

    /** Events waiting for this cursor. */
    int waiting() {
      synchronized (group) {
        return (int) (group.head - Math.max(next, group.head - group.size));
      }
    }

    /** Stops waking this cursor. */
    void close() {
      synchronized (group) {
        group.waiting.remove(this);
      }
    }
  }
}
