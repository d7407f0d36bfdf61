package org.mmumesh.checkpoint.store;

/**
 * A checkpoint of that name exists (or is being written) and the writer did not ask to replace it.
 */
public final class CheckpointExistsException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  public CheckpointExistsException(String checkpointName, String message) {
    super(checkpointName, message, null);
  }
}
