package org.mmumesh.workload;

import java.util.Arrays;
import org.mmumesh.common.Access;

/** A whole access stream pulled from a source into arrays, for assertions. */
final class Drained {
  int size;
  int[] kinds = new int[16];
  long[] eas = new long[16];
  int[] sizes = new int[16];
  long[] values = new long[16];

  static Drained of(AccessSource source, int batchCapacity) {
    Drained d = new Drained();
    AccessBatch b = new AccessBatch(batchCapacity);
    int n;
    while ((n = source.fill(b)) > 0) {
      if (n != b.size()) {
        throw new AssertionError("fill returned " + n + " but batch holds " + b.size());
      }
      for (int i = 0; i < n; i++) {
        d.add(b.kindOrdinal(i), b.ea(i), b.sizeBytes(i), b.value(i));
      }
    }
    return d;
  }

  private void add(int kind, long ea, int size, long value) {
    if (this.size == kinds.length) {
      int cap = kinds.length * 2;
      kinds = Arrays.copyOf(kinds, cap);
      eas = Arrays.copyOf(eas, cap);
      sizes = Arrays.copyOf(sizes, cap);
      values = Arrays.copyOf(values, cap);
    }
    kinds[this.size] = kind;
    eas[this.size] = ea;
    sizes[this.size] = size;
    values[this.size] = value;
    this.size++;
  }

  long count(Access kind) {
    long c = 0;
    for (int i = 0; i < size; i++) {
      if (kinds[i] == kind.ordinal()) {
        c++;
      }
    }
    return c;
  }

  /** Equal streams: same kinds, EAs, sizes and values in the same order. */
  boolean sameAs(Drained o) {
    return size == o.size
        && Arrays.equals(kinds, 0, size, o.kinds, 0, size)
        && Arrays.equals(eas, 0, size, o.eas, 0, size)
        && Arrays.equals(sizes, 0, size, o.sizes, 0, size)
        && Arrays.equals(values, 0, size, o.values, 0, size);
  }

  /** Per-page access counts for pages 0..pages-1 of the window. */
  long[] pageHistogram(long pages) {
    long[] h = new long[(int) pages];
    for (int i = 0; i < size; i++) {
      h[(int) ((eas[i] - MmuKind.LINEAR_MAP_BASE) >>> MmuKind.PAGE_SHIFT)]++;
    }
    return h;
  }
}
