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

  /** The tree's state (checkpoint; pure): node arrays up to the top and the table as it is. */
  org.mmumesh.checkpoint.v1.StableTreeState checkpoint() {
    byte[] in = new byte[top];
    for (int n = 0; n < top; n++) {
      in[n] = (byte) (inTree[n] ? 1 : 0);
    }
    return org.mmumesh.checkpoint.v1.StableTreeState.newBuilder()
        .setNodeTop(top)
        .setFreeHead(freeHead)
        .setKeys(org.mmumesh.checkpoint.PackedArrays.longs(key, 0, top))
        .setKpfns(org.mmumesh.checkpoint.PackedArrays.ints(kpfn, 0, top))
        .setKgens(org.mmumesh.checkpoint.PackedArrays.ints(kgen, 0, top))
        .setItemCounts(org.mmumesh.checkpoint.PackedArrays.ints(items, 0, top))
        .setRefs(org.mmumesh.checkpoint.PackedArrays.ints(refs, 0, top))
        .setInTree(org.mmumesh.checkpoint.PackedArrays.bytes(in, 0, top))
        .setTable(org.mmumesh.checkpoint.PackedArrays.longs(table, 0, table.length))
        .setTableSize(size)
        .setLiveNodes(live)
        .build();
  }

  /** Sets this (fresh) tree from {@code s}, checking lengths, node numbers and counts. */
  void restore(org.mmumesh.checkpoint.v1.StableTreeState s) {
    int t =
        (int)
            org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
                "stable_tree.node_top", Integer.toUnsignedLong(s.getNodeTop()), 1, 1 << 30);
    org.mmumesh.checkpoint.PackedArrays.count("stable_tree.keys", s.getKeys(), Long.BYTES, t);
    org.mmumesh.checkpoint.PackedArrays.count("stable_tree.kpfns", s.getKpfns(), Integer.BYTES, t);
    org.mmumesh.checkpoint.PackedArrays.count("stable_tree.kgens", s.getKgens(), Integer.BYTES, t);
    org.mmumesh.checkpoint.PackedArrays.count(
        "stable_tree.item_counts", s.getItemCounts(), Integer.BYTES, t);
    org.mmumesh.checkpoint.PackedArrays.count("stable_tree.refs", s.getRefs(), Integer.BYTES, t);
    org.mmumesh.checkpoint.PackedArrays.count("stable_tree.in_tree", s.getInTree(), 1, t);
    int cap = s.getTable().size() / Long.BYTES;
    if (cap < 64 || Integer.bitCount(cap) != 1 || s.getTable().size() % Long.BYTES != 0) {
      throw new org.mmumesh.checkpoint.CheckpointMismatchException(
          "stable_tree.table: "
              + s.getTable().size()
              + " bytes; allowed 8 bytes times a power of two of at least 64 slots");
    }
    int len = 16;
    while (len < t) {
      len *= 2;
    }
    key = new long[len];
    kpfn = new int[len];
    kgen = new int[len];
    items = new int[len];
    refs = new int[len];
    inTree = new boolean[len];
    org.mmumesh.checkpoint.PackedArrays.readLongs(s.getKeys(), key, 0, t);
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getKpfns(), kpfn, 0, t);
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getKgens(), kgen, 0, t);
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getItemCounts(), items, 0, t);
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getRefs(), refs, 0, t);
    byte[] in = s.getInTree().toByteArray();
    int liveCount = 0;
    for (int n = 0; n < t; n++) {
      org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
          "stable_tree.in_tree[" + n + "]", in[n], 0, n == 0 ? 0 : 1);
      inTree[n] = in[n] == 1;
      liveCount += in[n];
    }
    long[] tab = new long[cap];
    org.mmumesh.checkpoint.PackedArrays.readLongs(s.getTable(), tab, 0, cap);
    int occupied = 0;
    for (int i = 0; i < cap; i++) {
      if (tab[i] != 0) {
        int n = (int) tab[i];
        if (n <= 0
            || n >= t
            || !inTree[n]
            || (tab[i] & 0xFFFF_FFFF_0000_0000L) != (hash(key[n]) & 0xFFFF_FFFF_0000_0000L)) {
          throw new org.mmumesh.checkpoint.CheckpointMismatchException(
              "stable_tree.table["
                  + i
                  + "]: names node "
                  + n
                  + ", which is not a node in the tree below node_top "
                  + t
                  + " with that key's tag");
        }
        occupied++;
      }
    }
    if (occupied != liveCount || occupied != s.getTableSize() || occupied != s.getLiveNodes()) {
      throw new org.mmumesh.checkpoint.CheckpointMismatchException(
          "stable_tree.table_size/live_nodes: "
              + s.getTableSize()
              + "/"
              + s.getLiveNodes()
              + " but the table holds "
              + occupied
              + " and "
              + liveCount
              + " nodes are in the tree");
    }
    table = tab;
    top = t;
    size = occupied;
    live = liveCount;
    org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
        "stable_tree.free_head", s.getFreeHead(), 0, t - 1L);
    freeHead = s.getFreeHead();
    int visited = 0;
    for (int n = freeHead; n != 0; n = kpfn[n]) {
      if (n < 0 || n >= t || inTree[n] || refs[n] != 0 || ++visited > t) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "stable_tree.kpfns: the free list reaches node "
                + n
                + ", not a freed node below "
                + t
                + " (or loops)");
      }
    }
  }
}
