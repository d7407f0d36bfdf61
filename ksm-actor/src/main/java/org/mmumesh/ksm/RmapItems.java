package org.mmumesh.ksm;

import java.util.Arrays;

/**
 * The rmap_items (spec 7.2) as parallel primitive arrays indexed by item id: {@code oldchecksum} (4
 * bytes), stable node id (4 bytes), flags (1 byte: the item exists, UNSTABLE_FLAG 0x100,
 * STABLE_FLAG 0x200 of the kernel's {@code address} field) and the low 8 bits of the scan sequence
 * number it was inserted into the unstable tree with (1 byte): 10 bytes per mergeable page. An id
 * names one (mm, address) pair through its {@link MergeableRegion}; the item "exists" once ksmd has
 * visited that address and until it frees it.
 */
final class RmapItems {
  static final byte EXISTS = 1;
  static final byte UNSTABLE = 2;
  static final byte STABLE = 4;

  int[] oldChecksum = new int[0];
  int[] node = new int[0];
  byte[] flags = new byte[0];
  byte[] seq = new byte[0];

  void ensure(int ids) {
    if (ids > flags.length) {
      int cap = Math.max(ids, flags.length + (flags.length >> 1));
      oldChecksum = Arrays.copyOf(oldChecksum, cap);
      node = Arrays.copyOf(node, cap);
      flags = Arrays.copyOf(flags, cap);
      seq = Arrays.copyOf(seq, cap);
    }
  }
}
