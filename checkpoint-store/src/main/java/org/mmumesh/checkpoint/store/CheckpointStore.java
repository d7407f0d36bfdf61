package org.mmumesh.checkpoint.store;

import java.time.Duration;
import java.util.List;
import org.mmumesh.checkpoint.v1.CheckpointHeader;

/**
 * Where checkpoints live (issue 13, item 2). A checkpoint is a named set of opaque parts, one or
 * more per entity, plus a manifest. The store cuts each part into chunks (CRC32C each, zstd when it
 * pays), writes the chunks in their own transactions as the parts arrive, and writes the manifest
 * row last, in one transaction: a checkpoint is listed and readable only once complete. An aborted
 * or failed checkpoint is never listed and its chunks are deleted (or, if the database was gone at
 * the time, collected when a store next opens on it).
 *
 * <p>Implementations: {@link H2CheckpointStore} (an embedded database in a folder, the default on
 * one machine) and {@link PostgresCheckpointStore} (a cluster's nodes share one server); both use
 * the same schema ({@code schema.sql}) and the same code ({@link JdbcCheckpointStore}). {@link
 * CheckpointStores#open(String)} picks one from a JDBC URL or a folder.
 *
 * <p>Thread safety: the store is; one writer or reader is used by one thread at a time.
 */
public interface CheckpointStore extends AutoCloseable {

  /** What {@link #begin(String, CheckpointHeader, IfExists)} does when the name is taken. */
  enum IfExists {
    /** Refuse ({@link CheckpointExistsException}) at begin, or at commit if it appeared since. */
    REFUSE,
    /** Replace the old checkpoint in the commit's transaction (it stays readable until then). */
    REPLACE
  }

  /**
   * Starts a checkpoint; nothing is listed until {@link CheckpointWriter#commit()}.
   *
   * @param name the checkpoint's name ({@link CheckpointNames#requireValidName})
   * @param header the taker's facts; word_size_bits must be 32 or 64 and host_byte_order set
   *     ({@link HostFacts#header} makes one for this JVM)
   * @throws IllegalArgumentException a bad name or header, naming the field and allowed values
   * @throws CheckpointExistsException the name exists (and {@code ifExists} is REFUSE) or another
   *     writer is writing it
   * @throws CheckpointStoreFailedException the database failed
   */
  CheckpointWriter begin(String name, CheckpointHeader header, IfExists ifExists)
      throws CheckpointException;

  /** {@link #begin(String, CheckpointHeader, IfExists)} refusing an existing name. */
  default CheckpointWriter begin(String name, CheckpointHeader header) throws CheckpointException {
    return begin(name, header, IfExists.REFUSE);
  }

  /** The complete checkpoints, by name. */
  List<CheckpointSummary> list() throws CheckpointException;

  /**
   * Opens a complete checkpoint for reading after checking that this build can restore it.
   *
   * @throws CheckpointNotFoundException no complete checkpoint has that name
   * @throws CheckpointIncompatibleException a newer format version, another word size or byte order
   * @throws CheckpointCorruptException the manifest does not parse
   */
  CheckpointReader open(String name) throws CheckpointException;

  /**
   * Deletes a checkpoint: it disappears from {@link #list()} at once (one transaction), its chunks
   * are deleted after.
   *
   * @throws CheckpointNotFoundException no complete checkpoint has that name
   */
  void delete(String name) throws CheckpointException;

  /**
   * Deletes what abandoned checkpoints left: chunks of no pending or complete checkpoint, and
   * checkpoints pending for longer than {@code olderThan} (their writer died) with their chunks.
   * Runs when the store opens, with {@link StoreOptions#pendingGrace()}.
   *
   * @return how many abandoned checkpoints it cleaned up
   */
  int collectGarbage(Duration olderThan) throws CheckpointException;

  /** Closes the connection pool (and, for H2, the database). Open writers fail after this. */
  @Override
  void close();
}
