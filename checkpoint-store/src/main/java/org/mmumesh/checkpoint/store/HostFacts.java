package org.mmumesh.checkpoint.store;

import java.nio.ByteOrder;
import org.mmumesh.checkpoint.v1.CheckpointHeader;
import org.mmumesh.checkpoint.v1.ClusterShape;
import org.mmumesh.checkpoint.v1.HostByteOrder;

/**
 * What a checkpoint records about the JVM that took it (word size, byte order), and the header a
 * taker on this JVM starts from. A reader refuses a checkpoint whose facts differ from its own.
 */
public final class HostFacts {
  private HostFacts() {}

  /** This JVM's word size in bits: {@code sun.arch.data.model}, else guessed from os.arch. */
  public static int wordSizeBits() {
    String model = System.getProperty("sun.arch.data.model", "");
    if (model.equals("32") || model.equals("64")) {
      return Integer.parseInt(model);
    }
    return System.getProperty("os.arch", "").contains("64") ? 64 : 32;
  }

  /** This JVM's native byte order. */
  public static HostByteOrder byteOrder() {
    return ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
        ? HostByteOrder.HOST_BYTE_ORDER_BIG_ENDIAN
        : HostByteOrder.HOST_BYTE_ORDER_LITTLE_ENDIAN;
  }

  /**
   * A header for a checkpoint taken on this JVM: its word size and byte order, the given shape and
   * barrier; add a description with {@code toBuilder()} if wanted.
   */
  public static CheckpointHeader header(
      ClusterShape shape, long simulatedRound, long simulatedClockNs) {
    return CheckpointHeader.newBuilder()
        .setWordSizeBits(wordSizeBits())
        .setHostByteOrder(byteOrder())
        .setClusterShape(shape)
        .setSimulatedRound(simulatedRound)
        .setSimulatedClockNs(simulatedClockNs)
        .build();
  }
}
