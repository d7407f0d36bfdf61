package org.mmumesh.checkpoint.store;

/**
 * The checkpoint is intact but this build cannot restore it: a newer format version, or taken on a
 * host with another word size or byte order. The message names the field and both values.
 */
public final class CheckpointIncompatibleException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  public CheckpointIncompatibleException(String checkpointName, String message) {
    super(checkpointName, message, null);
  }
}
