package org.mmumesh.checkpoint.store;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import org.mmumesh.checkpoint.v1.CheckpointManifest;
import org.mmumesh.checkpoint.v1.PartEntry;

/**
 * A complete checkpoint, opened for reading. Every chunk read is checked against its CRC32C and
 * every part, at its end, against its SHA-256 and length; a mismatch is a {@link
 * CheckpointCorruptException} naming the part and the chunk. Reading changes nothing.
 */
public interface CheckpointReader extends AutoCloseable {

  /** The manifest (name, format, taker's header, parts). */
  CheckpointManifest manifest();

  /** The parts, in part_index order. */
  default List<PartEntry> parts() {
    return manifest().getPartsList();
  }

  /** The part of that entity, if the checkpoint has one. */
  default Optional<PartEntry> part(String entityKind, String entityId) {
    for (PartEntry p : parts()) {
      if (p.getEntityKind().equals(entityKind) && p.getEntityId().equals(entityId)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Streams one part's bytes, chunk by chunk (one chunk in memory at a time). A corrupt chunk, a
   * missing chunk or a failing store ends the stream with a {@link CheckpointStreamException} whose
   * {@link CheckpointStreamException#checkpointException()} says what.
   */
  InputStream openPart(PartEntry part);

  /**
   * One part's bytes, verified.
   *
   * @throws CheckpointNotFoundException the checkpoint has no part of that entity
   * @throws CheckpointCorruptException a chunk or the part fails its checks
   * @throws CheckpointStoreFailedException the store failed
   */
  byte[] readPart(String entityKind, String entityId) throws CheckpointException;

  /**
   * Reads every chunk of every part and checks them, keeping nothing: a restore calls it before it
   * changes anything, so that a corrupt checkpoint leaves the running state as it was.
   */
  void verify() throws CheckpointException;

  @Override
  void close();
}
