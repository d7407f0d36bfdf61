package org.mmumesh.vcpu;

import java.util.Arrays;

/**
 * The stores a vCPU completed through writable host mappings and has not yet sent to the page
 * frames, in program order (architecture section 1: a store of {@code value} at {@code offset}
 * mixes into the frame's fingerprint). TLB hits send no message, so stores are buffered here and
 * drained in one {@code PageFrame.ApplyStores}: when the buffer is full, at the end of each batch,
 * and before a TLB shootdown is acknowledged (a write-protect must not overtake a store made
 * through the mapping it removes). Three primitive arrays, no allocation per store.
 */
public final class StoreBuffer {
  private final int[] pfns;
  private final int[] offsets;
  private final long[] values;
  private int size;

  /**
   * @param capacity 1 to 65536
   */
  public StoreBuffer(int capacity) {
    if (capacity < 1 || capacity > (1 << 16)) {
      throw new IllegalArgumentException(
          "capacity: " + capacity + " is out of range; allowed 1 to 65536");
    }
    pfns = new int[capacity];
    offsets = new int[capacity];
    values = new long[capacity];
  }

  /** Appends a store; the caller drains first when {@link #isFull()}. */
  public void add(int pfn, int offset, long value) {
    if (size == pfns.length) {
      throw new IllegalStateException("store buffer full (" + size + "); drain it first");
    }
    pfns[size] = pfn;
    offsets[size] = offset;
    values[size] = value;
    size++;
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  public boolean isFull() {
    return size == pfns.length;
  }

  /** The buffered stores in order, as three arrays of equal length; the buffer is then empty. */
  public Drained drain() {
    Drained d =
        new Drained(
            Arrays.copyOf(pfns, size), Arrays.copyOf(offsets, size), Arrays.copyOf(values, size));
    size = 0;
    return d;
  }

  /** Stores taken out of the buffer. */
  public record Drained(int[] pfns, int[] offsets, long[] values) {}
}
