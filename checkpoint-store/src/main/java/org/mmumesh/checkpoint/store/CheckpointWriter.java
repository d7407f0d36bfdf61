package org.mmumesh.checkpoint.store;

import java.io.ByteArrayInputStream;
import java.io.InputStream;

/**
 * One checkpoint being written: parts, then {@link #commit()}. States: open --putPart--> open; open
 * --commit--> committed; open --abort, close, or any failure--> abandoned (chunks deleted, nothing
 * listed). A call in the wrong state throws {@link IllegalStateException}.
 */
public interface CheckpointWriter extends AutoCloseable {

  /** The checkpoint's name. */
  String name();

  /**
   * Writes one part from a stream, read to its end in chunks (the stream is not closed). A failure
   * of the store or of the stream abandons the checkpoint.
   *
   * @param entityKind what the entity is ("page-frame", "vcpu"): 1-256 characters
   * @param entityId the entity's id within its kind ("vm-7/vcpu-2"): 1-256 characters
   * @throws IllegalArgumentException a bad key, or (kind, id) already written in this checkpoint
   *     (nothing written, the checkpoint stays open)
   * @throws CheckpointStoreFailedException the store or the stream failed
   */
  void putPart(String entityKind, String entityId, InputStream data) throws CheckpointException;

  /** {@link #putPart(String, String, InputStream)} from an array. */
  default void putPart(String entityKind, String entityId, byte[] data) throws CheckpointException {
    putPart(entityKind, entityId, new ByteArrayInputStream(data));
  }

  /**
   * Writes the manifest, in one transaction: the checkpoint becomes visible, complete.
   *
   * @throws CheckpointExistsException the name was committed by someone else meanwhile (REFUSE)
   * @throws CheckpointStoreFailedException the store failed; the checkpoint is abandoned
   */
  void commit() throws CheckpointException;

  /** Abandons the checkpoint: its chunks are deleted; nothing was ever listed. Idempotent. */
  void abort();

  /** {@link #abort()} unless committed. */
  @Override
  void close();
}
