package org.mmumesh.engine;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * For the incremental invariant checker: shadow-cache entries, as {@code long} tokens, filed under
 * a key (a guest frame, or a host frame). Entries are released and their numbers reused without
 * telling the index, so a token is only a candidate: {@link #visit} and the pruning when a key's
 * list fills up drop the tokens the caller's liveness test refuses. A key's list holds each token
 * once.
 */
final class EntryIndex {
  /** Whether a token is still filed correctly under a key. */
  @FunctionalInterface
  interface Alive {
    boolean test(long token, long key);
  }

  /** Receives a live token. */
  @FunctionalInterface
  interface Visitor {
    void visit(long token);
  }

  private final Map<Long, long[]> lists = new HashMap<>();
  private final Alive alive;

  EntryIndex(Alive alive) {
    this.alive = alive;
  }

  /** Files {@code token} under {@code key} (nothing if it is there already). */
  void add(long key, long token) {
    long[] l = lists.get(key);
    if (l == null) {
      l = new long[4];
      lists.put(key, l);
    }
    int n = (int) l[0];
    for (int i = 1; i <= n; i++) {
      if (l[i] == token) {
        return;
      }
    }
    if (n + 1 == l.length) {
      n = prune(key, l);
      if (n + 1 >= l.length / 2) {
        l = Arrays.copyOf(l, l.length * 2);
        lists.put(key, l);
      }
    }
    l[++n] = token;
    l[0] = n;
  }

  /** Gives every live token under {@code key} to {@code visitor}, dropping the others. */
  void visit(long key, Visitor visitor) {
    long[] l = lists.get(key);
    if (l == null) {
      return;
    }
    int n = prune(key, l);
    if (n == 0) {
      lists.remove(key);
      return;
    }
    for (int i = 1; i <= n; i++) {
      visitor.visit(l[i]);
    }
  }

  private int prune(long key, long[] l) {
    int n = (int) l[0];
    int kept = 0;
    for (int i = 1; i <= n; i++) {
      if (alive.test(l[i], key)) {
        l[++kept] = l[i];
      }
    }
    l[0] = kept;
    return kept;
  }
}
