package org.mmumesh.ksm;

import java.util.Arrays;
import org.mmumesh.common.Fingerprint;

/**
 * KSM's stable tree (spec 7.2): stable nodes keyed by page content. The kernel orders nodes by
 * memcmp in a red-black tree; with fingerprints as contents an equality lookup is all that matters,
 * so nodes sit in an open-addressing hash table keyed by fingerprint (linear probing,
 * backward-shift deletion). Node fields are primitive arrays: key, {@code kpfn}, the KSM frame's
 * generation when the node was made (to detect a stale node, spec 7.6), the number of rmap_items on
 * the node, the number of items still pointing at it (items of a pruned node let go lazily), and
 * whether the node is in the tree. A node id is recycled only when it is out of the tree and no
 * item points at it.
 */
final class StableTree {
  long[] key = new long[16];
  int[] kpfn = new int[16];
  int[] kgen = new int[16];
  int[] items = new int[16];
  int[] refs = new int[16];
  boolean[] inTree = new boolean[16];
  private int top = 1; // node 0 unused: item.node == 0 means "none"
  private int freeHead;
  // Entries: (tag << 32) | node, tag = high half of the key's hash; 0 = empty. The tag lets a
  // probe skip non-matching slots without touching the node arrays.
  private long[] table = new long[64];
  private int size;
  private int live;

  /** Set while a {@link KsmAudit} is attached: nodes inserted or erased. */
  org.mmumesh.common.DirtySet dirty;

  private static long hash(long k) {
    return Fingerprint.avalanche(k);
  }

  private static int slotOf(long h, int cap) {
    return (int) (((h >>> 32) * cap) >>> 32);
  }

  /** The node in the tree whose key is {@code k}, or 0. */
  int find(long k) {
    long h = hash(k);
    long tag = h & 0xFFFF_FFFF_0000_0000L;
    int cap = table.length;
    for (int i = slotOf(h, cap); ; i = i + 1 == cap ? 0 : i + 1) {
      long e = table[i];
      if (e == 0) {
        return 0;
      }
      if ((e & 0xFFFF_FFFF_0000_0000L) == tag && key[(int) e] == k) {
        return (int) e;
      }
    }
  }

  /** Inserts a new node (the key must not be in the tree). */
  int insert(long k, int pfn, int gen) {
    int n;
    if (freeHead != 0) {
      n = freeHead;
      freeHead = kpfn[n];
    } else {
      if (top == key.length) {
        int cap = key.length * 2;
        key = Arrays.copyOf(key, cap);
        kpfn = Arrays.copyOf(kpfn, cap);
        kgen = Arrays.copyOf(kgen, cap);
        items = Arrays.copyOf(items, cap);
        refs = Arrays.copyOf(refs, cap);
        inTree = Arrays.copyOf(inTree, cap);
      }
      n = top++;
    }
    key[n] = k;
    kpfn[n] = pfn;
    kgen[n] = gen;
    items[n] = 0;
    refs[n] = 0;
    inTree[n] = true;
    live++;
    if (dirty != null) {
      dirty.add(n);
    }
    if ((size + 1) * 4L > table.length * 3L) {
      rehash(table.length * 2);
    }
    put(n);
    return n;
  }

  private void put(int n) {
    long h = hash(key[n]);
    int cap = table.length;
    int i = slotOf(h, cap);
    while (table[i] != 0) {
      i = i + 1 == cap ? 0 : i + 1;
    }
    table[i] = (h & 0xFFFF_FFFF_0000_0000L) | n;
    size++;
  }

  private void rehash(int cap) {
    long[] old = table;
    table = new long[cap];
    size = 0;
    for (long e : old) {
      if (e != 0) {
        put((int) e);
      }
    }
  }

  /** Takes node {@code n} out of the tree (rb_erase); frees it if no item points at it. */
  void erase(int n) {
    int cap = table.length;
    int i = slotOf(hash(key[n]), cap);
    while ((int) table[i] != n) {
      i = i + 1 == cap ? 0 : i + 1;
    }
    // backward-shift deletion
    int j = i;
    while (true) {
      j = j + 1 == cap ? 0 : j + 1;
      long m = table[j];
      if (m == 0) {
        break;
      }
      int home = slotOf(m, cap);
      boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        table[i] = m;
        i = j;
      }
    }
    table[i] = 0;
    size--;
    inTree[n] = false;
    live--;
    if (dirty != null) {
      dirty.add(n);
    }
    maybeFree(n);
  }

  /** An item stops pointing at {@code n}. */
  void releaseRef(int n) {
    refs[n]--;
    maybeFree(n);
  }

  private void maybeFree(int n) {
    if (!inTree[n] && refs[n] == 0) {
      kpfn[n] = freeHead;
      freeHead = n;
    }
  }

  /** Nodes in the tree (with or without items). */
  int liveNodes() {
    return live;
  }

  /** Calls {@code action} for every node in the tree (a snapshot, safe against erasure). */
  void forEachLive(java.util.function.IntConsumer action) {
    int[] snapshot = Arrays.stream(table).filter(e -> e != 0).mapToInt(e -> (int) e).toArray();
    for (int n : snapshot) {
      if (inTree[n]) {
        action.accept(n);
      }
    }
  }
}
