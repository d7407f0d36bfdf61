package org.mmumesh.checkpoint;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Bulk arrays as little-endian {@code bytes} fields: one copy, no per-element boxing or varint
 * coding, so large states (HTAB words, frame tables) pack and unpack at memory speed.
 */
public final class PackedArrays {
  private PackedArrays() {}

  /** {@code values} as {@code 8 * values.length} little-endian bytes. */
  public static ByteString longsLe(long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return ByteString.copyFrom(b.array());
  }

  /**
   * The longs of {@code bytes} (little-endian).
   *
   * @param field the field's name for the error
   * @param expectedCount the number of longs required, or -1 for any whole number
   * @throws CheckpointMismatchException naming {@code field} when the length is wrong
   */
  public static long[] longsLe(String field, ByteString bytes, int expectedCount) {
    if (bytes.size() % 8 != 0 || (expectedCount >= 0 && bytes.size() != expectedCount * 8L)) {
      throw new CheckpointMismatchException(
          field
              + ": "
              + bytes.size()
              + " bytes; allowed "
              + (expectedCount >= 0 ? expectedCount * 8L + " bytes" : "a multiple of 8 bytes"));
    }
    long[] out = new long[bytes.size() / 8];
    bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }
}
