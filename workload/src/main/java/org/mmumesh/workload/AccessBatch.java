package org.mmumesh.workload;

import org.mmumesh.common.Access;
import org.mmumesh.common.Checks;

/**
 * A batch of guest accesses in parallel primitive arrays, for engines that must not allocate per
 * access. Entry {@code i} (for {@code 0 <= i < size()}) is a {@link Access} kind (stored as its
 * ordinal), an effective address, a size in bytes and, for a store, the value stored (0 for loads
 * and instruction fetches). The capacity is fixed at construction; {@link #clear()} empties the
 * batch for reuse. Not thread-safe.
 */
public final class AccessBatch {
  /** The largest capacity a batch may have. */
  public static final int MAX_CAPACITY = 1 << 24;

  private static final Access[] KINDS = Access.values();

  private final byte[] kinds;
  private final long[] eas;
  private final int[] sizes;
  private final long[] values;
  private int size;

  /** An empty batch holding up to {@code capacity} accesses (1 to {@link #MAX_CAPACITY}). */
  public AccessBatch(int capacity) {
    Checks.inRange("capacity", capacity, 1, MAX_CAPACITY);
    kinds = new byte[capacity];
    eas = new long[capacity];
    sizes = new int[capacity];
    values = new long[capacity];
  }

  /** The fixed capacity. */
  public int capacity() {
    return kinds.length;
  }

  /** The number of accesses held. */
  public int size() {
    return size;
  }

  /** True when no more accesses fit. */
  public boolean isFull() {
    return size == kinds.length;
  }

  /** Empties the batch (the capacity stays). */
  public void clear() {
    size = 0;
  }

  /**
   * Appends an access.
   *
   * @throws IllegalStateException if the batch is full
   * @throws IllegalArgumentException if {@code sizeBytes} is not 1 to 4096
   */
  public void add(Access kind, long ea, int sizeBytes, long value) {
    add(kind.ordinal(), ea, sizeBytes, value);
  }

  /** Appends an access whose kind is given by its {@link Access} ordinal (the fast path). */
  public void add(int kindOrdinal, long ea, int sizeBytes, long value) {
    if (size == kinds.length) {
      throw new IllegalStateException("batch is full; capacity " + kinds.length);
    }
    if (kindOrdinal < 0 || kindOrdinal >= KINDS.length) {
      Checks.inRange("kindOrdinal", kindOrdinal, 0, KINDS.length - 1);
    }
    if (sizeBytes < 1 || sizeBytes > MmuKind.PAGE_BYTES) {
      Checks.inRange("sizeBytes", sizeBytes, 1, MmuKind.PAGE_BYTES);
    }
    kinds[size] = (byte) kindOrdinal;
    eas[size] = ea;
    sizes[size] = sizeBytes;
    values[size] = value;
    size++;
  }

  /** The kind of access {@code i}. */
  public Access kind(int i) {
    return KINDS[kinds[check(i)]];
  }

  /** The {@link Access} ordinal of access {@code i} (no enum lookup). */
  public int kindOrdinal(int i) {
    return kinds[check(i)];
  }

  /** The effective address of access {@code i}. */
  public long ea(int i) {
    return eas[check(i)];
  }

  /** The size in bytes of access {@code i}. */
  public int sizeBytes(int i) {
    return sizes[check(i)];
  }

  /** The value stored by access {@code i} (0 unless it is a store). */
  public long value(int i) {
    return values[check(i)];
  }

  private int check(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException(
          "index: " + i + " is out of range; allowed 0 to " + (size - 1));
    }
    return i;
  }
}
