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
}
