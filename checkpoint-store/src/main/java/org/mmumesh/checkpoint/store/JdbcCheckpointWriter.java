package org.mmumesh.checkpoint.store;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.mmumesh.checkpoint.v1.CheckpointHeader;
import org.mmumesh.checkpoint.v1.CheckpointManifest;
import org.mmumesh.checkpoint.v1.FormatVersion;
import org.mmumesh.checkpoint.v1.PartEntry;

/**
 * Writes one checkpoint through a {@link JdbcCheckpointStore}: each chunk an INSERT in its own
 * transaction (autocommit, on one connection held while the checkpoint is open), then the manifest
 * row and the end of the pending row in one transaction. Any failure abandons the checkpoint: the
 * connection is dropped, its chunks and pending row deleted if the database still answers.
 */
final class JdbcCheckpointWriter implements CheckpointWriter {
  private enum State {
    OPEN,
    COMMITTED,
    ABANDONED
  }

  private final JdbcCheckpointStore store;
  private final String checkpointId;
  private final String name;
  private final CheckpointHeader header;
  private final CheckpointStore.IfExists ifExists;
  private final List<PartEntry> parts = new ArrayList<>();
  private final Set<List<String>> keys = new HashSet<>();
  private final byte[] buffer;
  private State state = State.OPEN;
  private Connection connection;
  private PreparedStatement insertChunk;

  JdbcCheckpointWriter(
      JdbcCheckpointStore store,
      String checkpointId,
      String name,
      CheckpointHeader header,
      CheckpointStore.IfExists ifExists) {
    this.store = store;
    this.checkpointId = checkpointId;
    this.name = name;
    this.header = header;
    this.ifExists = ifExists;
    this.buffer = new byte[store.options().chunkSizeBytes()];
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void putPart(String entityKind, String entityId, InputStream data)
      throws CheckpointException {
    requireOpen("putPart");
    CheckpointNames.requireValidKey("entity kind", entityKind);
    CheckpointNames.requireValidKey("entity id", entityId);
    if (!keys.add(List.of(entityKind, entityId))) {
      throw new IllegalArgumentException(
          "checkpoint '"
              + name
              + "': part ("
              + entityKind
              + ", "
              + entityId
              + ") already written; (entity kind, entity id) is unique per checkpoint");
    }
    int partIndex = parts.size();
    MessageDigest sha = sha256();
    long length = 0;
    int chunk = 0;
    String where = "part " + partIndex + " (" + entityKind + " " + entityId + ")";
    try {
      if (insertChunk == null) {
        connection = store.connection();
        insertChunk =
            connection.prepareStatement(
                "INSERT INTO mmumesh_checkpoint_chunk"
                    + " (checkpoint_id, part_index, chunk_index, frame) VALUES (?, ?, ?, ?)");
      }
      while (true) {
        int n;
        try {
          n = data.readNBytes(buffer, 0, buffer.length);
        } catch (IOException e) {
          throw fail("reading " + where + " from its source failed: " + e.getMessage(), e);
        }
        if (n == 0) {
          break;
        }
        sha.update(buffer, 0, n);
        length += n;
        insertChunk.setString(1, checkpointId);
        insertChunk.setInt(2, partIndex);
        insertChunk.setInt(3, chunk);
        insertChunk.setBytes(
            4, ChunkCodec.encode(partIndex, chunk, buffer, n, store.options().compress()));
        insertChunk.executeUpdate();
        chunk++;
        if (n < buffer.length) {
          break;
        }
      }
    } catch (SQLException e) {
      throw fail(
          "the store failed writing "
              + where
              + " chunk "
              + chunk
              + ": "
              + JdbcCheckpointStore.sqlMessage(e),
          e);
    }
    parts.add(
        PartEntry.newBuilder()
            .setEntityKind(entityKind)
            .setEntityId(entityId)
            .setPartIndex(partIndex)
            .setLengthBytes(length)
            .setChunkCount(chunk)
            .setSha256(ByteString.copyFrom(sha.digest()))
            .build());
  }

  @Override
  public void commit() throws CheckpointException {
    requireOpen("commit");
    long total = 0;
    for (PartEntry p : parts) {
      total += p.getLengthBytes();
    }
    CheckpointManifest manifest =
        CheckpointManifest.newBuilder()
            .setCheckpointName(name)
            .setFormat(
                FormatVersion.newBuilder().setFormatVersion(JdbcCheckpointStore.FORMAT_VERSION))
            .setCreatedUnixMillis(store.options().clock().millis())
            .setHeader(header)
            .setChunkSizeBytes(store.options().chunkSizeBytes())
            .addAllParts(parts)
            .build();
    closeConnection();
    String replacedId = null;
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      try {
        if (ifExists == CheckpointStore.IfExists.REPLACE) {
          replacedId = JdbcCheckpointStore.manifestId(c, name);
          if (replacedId != null) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "DELETE FROM mmumesh_checkpoint_manifest WHERE checkpoint_name = ?")) {
              ps.setString(1, name);
              ps.executeUpdate();
            }
          }
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO mmumesh_checkpoint_manifest (checkpoint_name, checkpoint_id,"
                    + " format_version, created_unix_millis, part_count, total_bytes, manifest)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
          ps.setString(1, name);
          ps.setString(2, checkpointId);
          ps.setInt(3, JdbcCheckpointStore.FORMAT_VERSION);
          ps.setLong(4, manifest.getCreatedUnixMillis());
          ps.setInt(5, parts.size());
          ps.setLong(6, total);
          ps.setBytes(7, manifest.toByteArray());
          ps.executeUpdate();
        }
        if (JdbcCheckpointStore.deletePending(c, checkpointId) != 1) {
          c.rollback();
          throw fail(
              "its pending row is gone (collected as garbage: the checkpoint took longer than"
                  + " the store's pending grace period)",
              null);
        }
        c.commit();
      } catch (SQLException e) {
        rollbackQuietly(c);
        throw e;
      }
    } catch (SQLException e) {
      if (JdbcCheckpointStore.SQLSTATE_UNIQUE_VIOLATION.equals(e.getSQLState())) {
        abandon();
        throw new CheckpointExistsException(name, "committed meanwhile by another writer");
      }
      throw fail("the store failed committing it: " + JdbcCheckpointStore.sqlMessage(e), e);
    }
    state = State.COMMITTED;
    if (replacedId != null) {
      store.deleteChunksQuietly(replacedId);
    }
  }

  @Override
  public void abort() {
    if (state == State.OPEN) {
      abandon();
    }
  }

  @Override
  public void close() {
    abort();
  }

  private void abandon() {
    state = State.ABANDONED;
    closeConnection();
    store.abandonQuietly(checkpointId);
  }

  private CheckpointStoreFailedException fail(String what, Exception cause) {
    abandon();
    return new CheckpointStoreFailedException(
        name, what + "; the checkpoint is abandoned (not listed)", cause);
  }

  private void requireOpen(String call) {
    if (state != State.OPEN) {
      throw new IllegalStateException(
          "checkpoint '" + name + "': " + call + " on a " + state.name().toLowerCase() + " writer");
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException | RuntimeException e) {
        // a broken connection (the database stopped): the pool discards it
      }
      connection = null;
      insertChunk = null;
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      // the transaction dies with the connection anyway
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
