package org.mmumesh.checkpoint.store;

/**
 * What is stored is not what was written: a chunk fails its CRC32C or does not decompress, a part
 * fails its SHA-256 or length, a chunk is missing, the manifest does not parse. The message names
 * the part (entity kind and id) and the chunk.
 */
public final class CheckpointCorruptException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  public CheckpointCorruptException(String checkpointName, String message, Throwable cause) {
    super(checkpointName, message, cause);
  }
}
