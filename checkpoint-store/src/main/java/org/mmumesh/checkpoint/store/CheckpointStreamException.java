package org.mmumesh.checkpoint.store;

import java.io.IOException;

/** How a part's {@link java.io.InputStream} reports a checkpoint failure (corruption, store). */
public final class CheckpointStreamException extends IOException {
  private static final long serialVersionUID = 1L;

  private final CheckpointException checkpointException;

  public CheckpointStreamException(CheckpointException cause) {
    super(cause.getMessage(), cause);
    this.checkpointException = cause;
  }

  /** What went wrong, with the checkpoint, part and chunk named. */
  public CheckpointException checkpointException() {
    return checkpointException;
  }
}
