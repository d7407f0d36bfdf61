package org.mmumesh.ksm;

import java.util.Arrays;

/**
 * The rmap_items (spec 7.2) as parallel primitive arrays indexed by item id: {@code oldchecksum} (4
 * bytes), stable node id (4 bytes), flags (1 byte: the item exists, UNSTABLE_FLAG 0x100,
 * STABLE_FLAG 0x200 of the kernel's {@code address} field) and the low 8 bits of the scan sequence
 * number it was inserted into the unstable tree with (1 byte): 10 bytes per mergeable page. An id
 * names one (mm, address) pair through its {@link MergeableRegion}; the item "exists" once ksmd has
 * visited that address and until it frees it.
 *
 * <p>The arrays are cut into chunks of {@value #CHUNK} ids, so making more pages mergeable adds
 * chunks instead of copying everything (no growth slack, no copy peak: 16 VMs of 2^20 pages need
 * 160 MiB, not the 230 MiB plus a 380 MiB transient of arrays grown by half). Only the last chunk
 * is sized to the need (growing by half, up to a full chunk).
 */
final class RmapItems {
  static final byte EXISTS = 1;
  static final byte UNSTABLE = 2;
  static final byte STABLE = 4;

  static final int CHUNK_SHIFT = 16;

  /** Ids per chunk. */
  static final int CHUNK = 1 << CHUNK_SHIFT;

  private static final int MASK = CHUNK - 1;

  private int[][] oldChecksum = new int[0][];
  private int[][] node = new int[0][];
  private byte[][] flags = new byte[0][];
  private byte[][] seq = new byte[0][];
  private long capacity;

  /** Set while a {@link KsmAudit} is attached: ids whose flags or node changed. */
  org.mmumesh.common.DirtySet dirty;

  /** Makes ids {@code [0, ids)} usable; new ids read as not existing. */
  void ensure(int ids) {
    if (ids <= capacity) {
      return;
    }
    int chunks = (int) (((long) ids + MASK) >>> CHUNK_SHIFT);
    int had = flags.length;
    if (chunks > had) {
      oldChecksum = Arrays.copyOf(oldChecksum, chunks);
      node = Arrays.copyOf(node, chunks);
      flags = Arrays.copyOf(flags, chunks);
      seq = Arrays.copyOf(seq, chunks);
    }
    // the previous last chunk fills up; full chunks in between; the new last one sized to the need
    for (int c = Math.max(0, had - 1); c < chunks; c++) {
      int need = c < chunks - 1 ? CHUNK : ids - (c << CHUNK_SHIFT);
      int len = flags[c] == null ? 0 : flags[c].length;
      if (len < need) {
        int cap = c < chunks - 1 ? CHUNK : Math.min(CHUNK, Math.max(need, len + (len >> 1)));
        oldChecksum[c] = len == 0 ? new int[cap] : Arrays.copyOf(oldChecksum[c], cap);
        node[c] = len == 0 ? new int[cap] : Arrays.copyOf(node[c], cap);
        flags[c] = len == 0 ? new byte[cap] : Arrays.copyOf(flags[c], cap);
        seq[c] = len == 0 ? new byte[cap] : Arrays.copyOf(seq[c], cap);
        capacity += cap - len;
      }
    }
  }

  /** Ids the arrays now hold. */
  long capacity() {
    return capacity;
  }

  byte flags(int id) {
    return flags[id >>> CHUNK_SHIFT][id & MASK];
  }

  void setFlags(int id, byte f) {
    flags[id >>> CHUNK_SHIFT][id & MASK] = f;
    if (dirty != null) {
      dirty.add(id);
    }
  }

  int oldChecksum(int id) {
    return oldChecksum[id >>> CHUNK_SHIFT][id & MASK];
  }

  void setOldChecksum(int id, int cs) {
    oldChecksum[id >>> CHUNK_SHIFT][id & MASK] = cs;
  }

  int node(int id) {
    return node[id >>> CHUNK_SHIFT][id & MASK];
  }

  void setNode(int id, int n) {
    node[id >>> CHUNK_SHIFT][id & MASK] = n;
    if (dirty != null) {
      dirty.add(id);
    }
  }

  byte seq(int id) {
    return seq[id >>> CHUNK_SHIFT][id & MASK];
  }

  void setSeq(int id, byte s) {
    seq[id >>> CHUNK_SHIFT][id & MASK] = s;
  }

  /** Items {@code [0, count)} (checkpoint; pure). */
  org.mmumesh.checkpoint.v1.RmapItemsState checkpoint(int count) {
    int[] cs = new int[count];
    int[] nd = new int[count];
    byte[] fl = new byte[count];
    byte[] sq = new byte[count];
    for (int c = 0; (long) c << CHUNK_SHIFT < count; c++) {
      int from = c << CHUNK_SHIFT;
      int n = Math.min(CHUNK, count - from);
      System.arraycopy(oldChecksum[c], 0, cs, from, n);
      System.arraycopy(node[c], 0, nd, from, n);
      System.arraycopy(flags[c], 0, fl, from, n);
      System.arraycopy(seq[c], 0, sq, from, n);
    }
    return org.mmumesh.checkpoint.v1.RmapItemsState.newBuilder()
        .setItemCount(count)
        .setOldChecksums(org.mmumesh.checkpoint.PackedArrays.ints(cs, 0, count))
        .setNodes(org.mmumesh.checkpoint.PackedArrays.ints(nd, 0, count))
        .setFlags(org.mmumesh.checkpoint.PackedArrays.bytes(fl, 0, count))
        .setSeqs(org.mmumesh.checkpoint.PackedArrays.bytes(sq, 0, count))
        .build();
  }

  /**
   * Sets this (fresh) table's items from {@code s}, which must hold {@code count} of them with
   * flags 0, 1, 3 or 5 and nodes below {@code nodeTop}.
   */
  void restore(org.mmumesh.checkpoint.v1.RmapItemsState s, int count, int nodeTop) {
    if (s.getItemCount() != count) {
      throw org.mmumesh.checkpoint.CheckpointMismatchException.of(
          "rmap_items.item_count", s.getItemCount(), count + " (mm_list.next_item_id)");
    }
    org.mmumesh.checkpoint.PackedArrays.count(
        "rmap_items.old_checksums", s.getOldChecksums(), Integer.BYTES, count);
    org.mmumesh.checkpoint.PackedArrays.count(
        "rmap_items.nodes", s.getNodes(), Integer.BYTES, count);
    org.mmumesh.checkpoint.PackedArrays.count("rmap_items.flags", s.getFlags(), 1, count);
    org.mmumesh.checkpoint.PackedArrays.count("rmap_items.seqs", s.getSeqs(), 1, count);
    int[] cs = new int[count];
    int[] nd = new int[count];
    byte[] fl = s.getFlags().toByteArray();
    byte[] sq = s.getSeqs().toByteArray();
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getOldChecksums(), cs, 0, count);
    org.mmumesh.checkpoint.PackedArrays.readInts(s.getNodes(), nd, 0, count);
    for (int id = 0; id < count; id++) {
      byte f = fl[id];
      if (f != 0 && f != EXISTS && f != (EXISTS | UNSTABLE) && f != (EXISTS | STABLE)) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "rmap_items.flags[" + id + "]: " + f + "; allowed 0, 1, 3 (unstable) or 5 (stable)");
      }
      org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
          "rmap_items.nodes[" + id + "]", nd[id], 0, nodeTop - 1L);
    }
    ensure(count);
    for (int c = 0; (long) c << CHUNK_SHIFT < count; c++) {
      int from = c << CHUNK_SHIFT;
      int n = Math.min(CHUNK, count - from);
      System.arraycopy(cs, from, oldChecksum[c], 0, n);
      System.arraycopy(nd, from, node[c], 0, n);
      System.arraycopy(fl, from, flags[c], 0, n);
      System.arraycopy(sq, from, seq[c], 0, n);
    }
  }
}
