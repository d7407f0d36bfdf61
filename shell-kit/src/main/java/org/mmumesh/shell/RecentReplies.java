package org.mmumesh.shell;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The replies to the last {@code capacity} requests, by request key (for example kind, vm and
 * requestId), for the idempotent retry of management commands: a retried request is answered with
 * the remembered reply instead of being applied again. The oldest request is forgotten first. A
 * value may be a placeholder (a reply still waiting for its completion) that is {@link #replace
 * replaced} by the reply later, keeping its age.
 *
 * @param <K> the request key
 * @param <V> the remembered value
 */
public final class RecentReplies<K, V> {
  private final Map<K, V> replies;

  /**
   * @param capacity requests remembered, 1 or more
   */
  public RecentReplies(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException(
          "capacity: " + capacity + " is out of range; allowed 1 or more");
    }
    this.replies =
        new LinkedHashMap<>(16, 0.75f, false) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> e) {
            return size() > capacity;
          }
        };
  }

  /** The value remembered for {@code key}, or null (a new request, or forgotten). */
  public V replayed(K key) {
    return replies.get(key);
  }

  /** Remembers {@code value} for {@code key} as the newest request. */
  public void remember(K key, V value) {
    replies.remove(key);
    replies.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
  }

  /** Replaces the value of {@code key} in place (same age), if it is still remembered. */
  public void replace(K key, V value) {
    replies.computeIfPresent(key, (k, v) -> Objects.requireNonNull(value, "value"));
  }

  /** The number of requests remembered. */
  public int size() {
    return replies.size();
  }
}
