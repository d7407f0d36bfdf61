package org.mmumesh.shell;

import java.util.Arrays;
import java.util.Objects;

/**
 * An entity's checkpointed state as it travels in a message: the bytes of its state protobuf (issue
 * 13; {@code mmumesh.checkpoint.v1}), compared by content. Every shell's {@code CheckpointState}
 * reply and {@code RestoreState} command carries one, so their records need no array-aware {@code
 * equals} of their own.
 *
 * @param bytes the serialized state (not copied: the sender gives up the array)
 */
public record EntityState(byte[] bytes) {
  /** Requires the bytes. */
  public EntityState {
    Objects.requireNonNull(bytes, "bytes");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EntityState s && Arrays.equals(s.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "EntityState[" + bytes.length + " bytes]";
  }
}
