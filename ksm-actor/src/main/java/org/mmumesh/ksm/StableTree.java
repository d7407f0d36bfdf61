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
  private int[] table = new int[64];
  private int size;
  private int live;

  private int slotOf(long k) {
    return (int) Fingerprint.avalanche(k) & (table.length - 1);
  }

  /** The node in the tree whose key is {@code k}, or 0. */
  int find(long k) {
    int mask = table.length - 1;
    for (int i = slotOf(k); ; i = (i + 1) & mask) {
      int n = table[i];
      if (n == 0) {
        return 0;
      }
      if (key[n] == k) {
        return n;
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
    if ((size + 1) * 4L > table.length * 3L) {
      rehash(table.length * 2);
    }
    put(n);
    return n;
  }

  private void put(int n) {
    int mask = table.length - 1;
    int i = slotOf(key[n]);
    while (table[i] != 0) {
      i = (i + 1) & mask;
    }
    table[i] = n;
    size++;
  }

  private void rehash(int cap) {
    int[] old = table;
    table = new int[cap];
    size = 0;
    for (int n : old) {
      if (n != 0) {
        put(n);
      }
    }
  }

  /** Takes node {@code n} out of the tree (rb_erase); frees it if no item points at it. */
  void erase(int n) {
    int mask = table.length - 1;
    int i = slotOf(key[n]);
    while (table[i] != n) {
      i = (i + 1) & mask;
    }
    // backward-shift deletion
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      int m = table[j];
      if (m == 0) {
        break;
      }
      int home = slotOf(key[m]);
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
    int[] snapshot = Arrays.stream(table).filter(n -> n != 0).toArray();
    for (int n : snapshot) {
      if (inTree[n]) {
        action.accept(n);
      }
    }
  }
}
