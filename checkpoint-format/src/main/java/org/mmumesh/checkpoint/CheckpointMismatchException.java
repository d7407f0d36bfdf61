package org.mmumesh.checkpoint;

/**
 * A checkpoint state message does not fit the core it is restored into: the configuration it was
 * taken with differs from the one given (MMU kind, sizes, policy), or the message is inconsistent
 * (lengths disagree, an index out of range). The message names the field and both values, or the
 * field and the allowed range. Thrown before anything restored is visible: a restore either returns
 * a complete core or throws.
 */
public final class CheckpointMismatchException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** A free-form message that names the field and the allowed range. */
  public CheckpointMismatchException(String message) {
    super(message);
  }

  /**
   * The checkpoint's {@code field} holds {@code inCheckpoint}, the restoring side {@code given}.
   */
  public static CheckpointMismatchException of(String field, Object inCheckpoint, Object given) {
    return new CheckpointMismatchException(
        field + ": the checkpoint has " + inCheckpoint + " but the restoring core has " + given);
  }

  /**
   * Requires {@code min <= value <= max} for element {@code index} of the repeated field {@code
   * field}; the name {@code field[index]} is built only on failure (bulk loops call this per
   * element).
   */
  public static long checkRange(String field, int index, long value, long min, long max) {
    if (value < min || value > max) {
      checkRange(field + "[" + index + "]", value, min, max);
    }
    return value;
  }

  /** Requires {@code inCheckpoint.equals(given)} for a configuration field, else {@link #of}. */
  public static void requireEqual(String field, Object inCheckpoint, Object given) {
    if (!inCheckpoint.equals(given)) {
      throw of(field, inCheckpoint, given);
    }
  }

  /** Requires {@code min <= value <= max} for a checkpoint field. */
  public static long checkRange(String field, long value, long min, long max) {
    if (value < min || value > max) {
      throw new CheckpointMismatchException(
          field + ": " + value + " is out of range; allowed " + min + " to " + max);
    }
    return value;
  }
}
