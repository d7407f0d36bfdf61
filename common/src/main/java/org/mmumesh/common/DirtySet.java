package org.mmumesh.common;

import java.util.Arrays;

/**
 * A set of non-negative ints marked "touched since the last check" by the incremental invariant
 * checks ({@code --check-invariants}): {@link #add} is O(1) and idempotent, the members are visited
 * in the order they were first added, and {@link #clear} costs the number of members, not the range
 * of values. Membership is a bit set that grows with the largest value added.
 *
 * <p>Not thread-safe: one core owns it.
 */
public final class DirtySet {
  private static final int[] NONE = new int[0];

  private long[] bits = new long[16];
  private int[] members = new int[64];
  private int size;

  /** Marks {@code value} (0 or more); true if it was not marked yet. */
  public boolean add(int value) {
    int w = value >>> 6;
    if (w >= bits.length) {
      bits = Arrays.copyOf(bits, Math.max(w + 1, bits.length * 2));
    }
    long m = 1L << value;
    if ((bits[w] & m) != 0) {
      return false;
    }
    bits[w] |= m;
    if (size == members.length) {
      members = Arrays.copyOf(members, size * 2);
    }
    members[size++] = value;
    return true;
  }

  /** True if {@code value} is marked. */
  public boolean contains(int value) {
    int w = value >>> 6;
    return w < bits.length && (bits[w] & (1L << value)) != 0;
  }

  /** Marked values. */
  public int size() {
    return size;
  }

  /** The {@code i}-th value marked (in the order of first marking), {@code 0 <= i < size()}. */
  public int get(int i) {
    return members[i];
  }

  /** Unmarks everything. */
  public void clear() {
    for (int i = 0; i < size; i++) {
      bits[members[i] >>> 6] = 0;
    }
    size = 0;
  }

  /** The marked values, in the order of first marking, and unmarks them. */
  public int[] drain() {
    if (size == 0) {
      return NONE;
    }
    int[] out = Arrays.copyOf(members, size);
    clear();
    return out;
  }
}
