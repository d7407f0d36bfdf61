package org.mmumesh.engine;

import java.util.Arrays;

/**
 * For the incremental invariant checker: shadow-cache entries, as {@code long} tokens, filed under
 * a key (a guest frame, or a host frame). Entries are released and their numbers reused without
 * telling the index, so a token is only a candidate: {@link #visit} and the pruning when a key's
 * list fills up drop the tokens the caller's liveness test refuses. A key's list holds each token
 * once. A key below 2^24 (a host frame) has its first token in a flat array, the usual case (one
 * writable entry per exclusive frame) costing no hashing.
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

  // Open addressing over keys (stored + 1, 0 = empty; keys are never removed, a key whose list
  // emptied keeps an empty list), each with its list: [0] = length, then the tokens.
  private long[] keys = new long[1024];
  private long[][] lists = new long[1024][];
  private int used;
  private final Alive alive;
  private long[] first = new long[1024]; // token + 1 for keys below DIRECT, 0: none

  private static final long DIRECT = 1 << 24;

  EntryIndex(Alive alive) {
    this.alive = alive;
  }

  private int slot(long key) {
    long k = key + 1;
    int mask = keys.length - 1;
    int i = (int) (org.mmumesh.common.Fingerprint.avalanche(k) & mask);
    while (keys[i] != 0 && keys[i] != k) {
      i = (i + 1) & mask;
    }
    return i;
  }

  private long[] get(long key) {
    return lists[slot(key)];
  }

  private void put(long key, long[] list) {
    int i = slot(key);
    if (keys[i] == 0) {
      keys[i] = key + 1;
      if (++used * 2 > keys.length) {
        lists[i] = list;
        grow();
        return;
      }
    }
    lists[i] = list;
  }

  private void grow() {
    long[] oldKeys = keys;
    long[][] oldLists = lists;
    keys = new long[oldKeys.length * 2];
    lists = new long[oldKeys.length * 2][];
    for (int j = 0; j < oldKeys.length; j++) {
      if (oldKeys[j] != 0) {
        int i = slot(oldKeys[j] - 1);
        keys[i] = oldKeys[j];
        lists[i] = oldLists[j];
      }
    }
  }

  /** Files {@code token} under {@code key} (nothing if it is there already). */
  void add(long key, long token) {
    if (key < DIRECT) {
      int k = (int) key;
      if (k >= first.length) {
        first = Arrays.copyOf(first, Math.max(k + 1, first.length * 2));
      }
      long f = first[k];
      if (f == token + 1) {
        return;
      }
      if (f == 0 || !alive.test(f - 1, key)) {
        first[k] = token + 1;
        return;
      }
    }
    long[] l = get(key);
    if (l == null) {
      l = new long[4];
      put(key, l);
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
        put(key, l);
      }
    }
    l[++n] = token;
    l[0] = n;
  }

  /** Gives every live token under {@code key} to {@code visitor}, dropping the others. */
  void visit(long key, Visitor visitor) {
    if (key < DIRECT && key < first.length && first[(int) key] != 0) {
      long f = first[(int) key] - 1;
      if (alive.test(f, key)) {
        visitor.visit(f);
      } else {
        first[(int) key] = 0;
      }
    }
    long[] l = get(key);
    if (l == null) {
      return;
    }
    int n = prune(key, l);
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
