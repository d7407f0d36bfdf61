package org.mmumesh.checkpoint.store;

/**
 * The store itself failed: the database is unreachable or stopped, the disk or a quota is full, the
 * part's source stream failed. A checkpoint being written when this happens is abandoned (not
 * listed; its chunks are deleted, or collected at the store's next start if the database is gone).
 */
public final class CheckpointStoreFailedException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  public CheckpointStoreFailedException(String checkpointName, String message, Throwable cause) {
    super(checkpointName, message, cause);
  }

  private CheckpointStoreFailedException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The store as a whole failed (it cannot be opened, its schema cannot be made). */
  public static CheckpointStoreFailedException ofStore(
      String storeDescription, String message, Throwable cause) {
    return new CheckpointStoreFailedException(
        "checkpoint store " + storeDescription + ": " + message, cause);
  }
}
