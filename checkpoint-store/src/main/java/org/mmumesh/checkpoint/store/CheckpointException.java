package org.mmumesh.checkpoint.store;

/**
 * A checkpoint could not be written, found or read. Every subclass names the checkpoint and says
 * what is wrong; none leaves anything half-done visible (a checkpoint is listed only once its
 * manifest is committed, and reading changes nothing).
 */
public abstract class CheckpointException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String checkpointName;

  protected CheckpointException(String checkpointName, String message, Throwable cause) {
    super("checkpoint '" + checkpointName + "': " + message, cause);
    this.checkpointName = checkpointName;
  }

  /** A failure of the store as a whole (opening it), about no one checkpoint. */
  protected CheckpointException(String message, Throwable cause) {
    super(message, cause);
    this.checkpointName = null;
  }

  /** The checkpoint the operation was about; null for a failure of the store as a whole. */
  public String checkpointName() {
    return checkpointName;
  }
}
