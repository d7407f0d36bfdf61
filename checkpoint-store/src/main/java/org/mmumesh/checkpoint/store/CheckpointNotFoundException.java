package org.mmumesh.checkpoint.store;

/** No complete checkpoint of that name (or no such part in it). */
public final class CheckpointNotFoundException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  public CheckpointNotFoundException(String checkpointName, String message) {
    super(checkpointName, message, null);
  }
}
