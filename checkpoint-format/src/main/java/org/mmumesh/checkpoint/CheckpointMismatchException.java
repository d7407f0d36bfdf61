package org.mmumesh.checkpoint;

/**
 * A checkpoint state does not fit the core it is restored into, or is inconsistent in itself: a
 * configuration field differs (MMU kind, sizes, policy), lengths disagree, an index or enum is out
 * of range. The message names the field and both values (or the allowed range). A restore that
 * throws it has changed nothing visible: the caller discards the freshly built core.
 */
public final class CheckpointMismatchException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public CheckpointMismatchException(String message) {
    super(message);
  }

  /** "{@code field}: the checkpoint has X, this core has Y". */
  public static CheckpointMismatchException of(String field, Object inCheckpoint, Object here) {
    return new CheckpointMismatchException(
        field + ": the checkpoint has " + inCheckpoint + ", the core restored into has " + here);
  }

  /** Requires {@code inCheckpoint.equals(here)}, else a mismatch naming {@code field}. */
  public static void requireEqual(String field, Object inCheckpoint, Object here) {
    if (!inCheckpoint.equals(here)) {
      throw of(field, inCheckpoint, here);
    }
  }

  /** Requires {@code lo <= value <= hi}, else an exception naming {@code field} and the range. */
  public static long requireRange(String field, long value, long lo, long hi) {
    if (value < lo || value > hi) {
      throw new CheckpointMismatchException(
          field + ": " + value + " is out of range; allowed " + lo + " to " + hi);
    }
    return value;
  }
}
