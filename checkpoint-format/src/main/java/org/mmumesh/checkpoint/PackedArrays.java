package org.mmumesh.checkpoint;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Primitive arrays packed into protobuf {@code bytes} fields, little-endian, for the checkpoint's
 * bulk data (frame tables, host PTEs, HTAB words): one copy through a {@link ByteBuffer} view, no
 * per-element boxing or varint encoding. A reader checks the length against what it expects ({@link
 * #count}), so a truncated or padded field is a clear error naming it.
 */
public final class PackedArrays {
  private PackedArrays() {}

  /** {@code a[from, to)} as 8 bytes each. */
  public static ByteString longs(long[] a, int from, int to) {
    ByteBuffer b = ByteBuffer.allocate((to - from) * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(a, from, to - from);
    return UnsafeByteOperations.unsafeWrap(b.array());
  }

  /** {@code a[from, to)} as 4 bytes each. */
  public static ByteString ints(int[] a, int from, int to) {
    ByteBuffer b = ByteBuffer.allocate((to - from) * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(a, from, to - from);
    return UnsafeByteOperations.unsafeWrap(b.array());
  }

  /** {@code a[from, to)} as they are. */
  public static ByteString bytes(byte[] a, int from, int to) {
    return ByteString.copyFrom(a, from, to - from);
  }

  /**
   * The number of elements of {@code elementBytes} bytes each in {@code field}, which must hold
   * exactly {@code expected} of them.
   *
   * @throws CheckpointMismatchException naming the field, the length found and the one expected
   */
  public static int count(String field, ByteString data, int elementBytes, long expected) {
    if (data.size() != expected * elementBytes) {
      throw new CheckpointMismatchException(
          field
              + ": "
              + data.size()
              + " bytes, but "
              + expected
              + " elements of "
              + elementBytes
              + " bytes ("
              + expected * elementBytes
              + " bytes) are expected");
    }
    return (int) expected;
  }

  /** Unpacks {@link #longs} output into {@code into[from, from + n)}. */
  public static void readLongs(ByteString data, long[] into, int from, int n) {
    data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(into, from, n);
  }

  /** Unpacks {@link #ints} output into {@code into[from, from + n)}. */
  public static void readInts(ByteString data, int[] into, int from, int n) {
    data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(into, from, n);
  }

  /** Unpacks {@link #bytes} output into {@code into[from, from + n)}. */
  public static void readBytes(ByteString data, byte[] into, int from, int n) {
    data.copyTo(into, 0, from, n);
  }
}
