package org.mmumesh.checkpoint.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.mmumesh.checkpoint.v1.CheckpointHeader;
import org.mmumesh.checkpoint.v1.CheckpointManifest;
import org.mmumesh.checkpoint.v1.HostByteOrder;

/**
 * The store over JDBC, for H2 and PostgreSQL alike: one schema ({@code schema.sql}: a pending row
 * per checkpoint being written, a chunk table, a manifest table), plain SQL both accept, a HikariCP
 * pool. Subclasses only say how to reach the database.
 *
 * <p>Visibility: {@link #list()} and {@link #open} read only the manifest table, and a manifest row
 * is inserted in the commit's one transaction, after every chunk. Garbage: chunks whose checkpoint
 * is neither pending nor in a manifest, and pending rows older than {@link
 * StoreOptions#pendingGrace()} (a writer that died), are deleted by {@link #collectGarbage}, which
 * runs when the store opens.
 */
public abstract class JdbcCheckpointStore implements CheckpointStore {
  /** The format version this build writes, and the newest it reads. */
  public static final int FORMAT_VERSION = 1;

  static final String SQLSTATE_UNIQUE_VIOLATION = "23505";

  private final HikariDataSource pool;
  private final StoreOptions options;
  private final String description;

  /**
   * Opens the pool, makes the schema if missing and collects garbage.
   *
   * @param description how messages name the store (a folder, or a URL without its parameters)
   */
  protected JdbcCheckpointStore(HikariConfig config, StoreOptions options, String description)
      throws CheckpointStoreFailedException {
    this.options = options;
    this.description = description;
    config.setConnectionTimeout(options.connectionTimeout().toMillis());
    config.setValidationTimeout(Math.min(options.connectionTimeout().toMillis(), 5_000));
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw CheckpointStoreFailedException.ofStore(
          description, "cannot connect: " + rootMessage(e), e);
    }
    this.pool = ds;
    try {
      createSchema();
      collectGarbage(options.pendingGrace());
    } catch (CheckpointStoreFailedException e) {
      pool.close();
      throw e;
    }
  }

  private void createSchema() throws CheckpointStoreFailedException {
    String sql;
    try (InputStream in = JdbcCheckpointStore.class.getResourceAsStream("schema.sql")) {
      sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw CheckpointStoreFailedException.ofStore(description, "schema.sql not readable", e);
    }
    try (Connection c = connection();
        Statement st = c.createStatement()) {
      for (String stmt : sql.split(";\\s*\\n")) {
        String body = stmt.lines().filter(l -> !l.startsWith("--")).reduce("", (a, b) -> a + b);
        if (!body.isBlank()) {
          st.execute(body);
        }
      }
    } catch (SQLException e) {
      throw CheckpointStoreFailedException.ofStore(
          description, "cannot create the schema: " + sqlMessage(e), e);
    }
  }

  @Override
  public CheckpointWriter begin(String name, CheckpointHeader header, IfExists ifExists)
      throws CheckpointException {
    CheckpointNames.requireValidName(name);
    requireValidHeader(header);
    String id = UUID.randomUUID().toString();
    try (Connection c = connection()) {
      if (ifExists == IfExists.REFUSE && manifestId(c, name) != null) {
        throw new CheckpointExistsException(
            name, "exists; delete it first or begin it with IfExists.REPLACE");
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO mmumesh_checkpoint_pending"
                  + " (checkpoint_id, checkpoint_name, started_unix_millis) VALUES (?, ?, ?)")) {
        ps.setString(1, id);
        ps.setString(2, name);
        ps.setLong(3, options.clock().millis());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      if (SQLSTATE_UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw new CheckpointExistsException(name, "another writer is writing it now");
      }
      throw new CheckpointStoreFailedException(
          name, "cannot begin it in " + description + ": " + sqlMessage(e), e);
    }
    return new JdbcCheckpointWriter(this, id, name, header, ifExists);
  }

  /** A header a taker may write: the reader's checks need a word size and a byte order. */
  static void requireValidHeader(CheckpointHeader header) {
    int bits = header.getWordSizeBits();
    if (bits != 32 && bits != 64) {
      throw new IllegalArgumentException(
          "header.word_size_bits: " + bits + "; allowed 32 or 64 (HostFacts.header sets it)");
    }
    if (header.getHostByteOrder() != HostByteOrder.HOST_BYTE_ORDER_LITTLE_ENDIAN
        && header.getHostByteOrder() != HostByteOrder.HOST_BYTE_ORDER_BIG_ENDIAN) {
      throw new IllegalArgumentException(
          "header.host_byte_order: "
              + header.getHostByteOrderValue()
              + "; allowed HOST_BYTE_ORDER_LITTLE_ENDIAN (1) or HOST_BYTE_ORDER_BIG_ENDIAN (2)");
    }
  }

  @Override
  public List<CheckpointSummary> list() throws CheckpointException {
    List<CheckpointSummary> out = new ArrayList<>();
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT checkpoint_name, format_version, created_unix_millis, part_count,"
                    + " total_bytes FROM mmumesh_checkpoint_manifest ORDER BY checkpoint_name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new CheckpointSummary(
                rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getInt(4), rs.getLong(5)));
      }
    } catch (SQLException e) {
      throw CheckpointStoreFailedException.ofStore(
          description, "cannot list checkpoints: " + sqlMessage(e), e);
    }
    return out;
  }

  @Override
  public CheckpointReader open(String name) throws CheckpointException {
    CheckpointNames.requireValidName(name);
    String id;
    byte[] stored;
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT checkpoint_id, manifest FROM mmumesh_checkpoint_manifest"
                    + " WHERE checkpoint_name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new CheckpointNotFoundException(
              name, "no complete checkpoint of that name in " + description);
        }
        id = rs.getString(1);
        stored = rs.getBytes(2);
      }
    } catch (SQLException e) {
      throw new CheckpointStoreFailedException(
          name, "cannot read its manifest from " + description + ": " + sqlMessage(e), e);
    }
    CheckpointManifest manifest;
    try {
      manifest = CheckpointManifest.parseFrom(stored);
    } catch (InvalidProtocolBufferException e) {
      throw new CheckpointCorruptException(
          name, "its manifest does not parse (" + e.getMessage() + ")", e);
    }
    checkRestorable(name, manifest);
    return new JdbcCheckpointReader(this, id, manifest);
  }

  /**
   * Whether this build, on this host, can restore the manifest's checkpoint: the name it says, a
   * format version it knows, the taker's word size and byte order equal this host's.
   */
  static void checkRestorable(String name, CheckpointManifest manifest) throws CheckpointException {
    if (!manifest.getCheckpointName().equals(name)) {
      throw new CheckpointCorruptException(
          name, "its manifest names checkpoint '" + manifest.getCheckpointName() + "'", null);
    }
    int version = manifest.getFormat().getFormatVersion();
    if (version < 1) {
      throw new CheckpointCorruptException(
          name, "its manifest has no format_version (0); allowed 1-" + FORMAT_VERSION, null);
    }
    if (version > FORMAT_VERSION) {
      throw new CheckpointIncompatibleException(
          name,
          "format_version "
              + version
              + " is newer than this build's "
              + FORMAT_VERSION
              + " (allowed 1-"
              + FORMAT_VERSION
              + "): restore it with a newer mmumesh");
    }
    CheckpointHeader h = manifest.getHeader();
    if (h.getWordSizeBits() != HostFacts.wordSizeBits()) {
      throw new CheckpointIncompatibleException(
          name,
          "taken on a host with word size "
              + h.getWordSizeBits()
              + " bits (header.word_size_bits); this host's is "
              + HostFacts.wordSizeBits());
    }
    if (h.getHostByteOrder() != HostFacts.byteOrder()) {
      throw new CheckpointIncompatibleException(
          name,
          "taken on a host with byte order "
              + h.getHostByteOrder()
              + " (header.host_byte_order); this host's is "
              + HostFacts.byteOrder());
    }
  }

  @Override
  public void delete(String name) throws CheckpointException {
    CheckpointNames.requireValidName(name);
    String id;
    try (Connection c = connection()) {
      id = manifestId(c, name);
      if (id == null) {
        throw new CheckpointNotFoundException(
            name, "no complete checkpoint of that name in " + description);
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "DELETE FROM mmumesh_checkpoint_manifest"
                  + " WHERE checkpoint_name = ? AND checkpoint_id = ?")) {
        ps.setString(1, name);
        ps.setString(2, id);
        if (ps.executeUpdate() != 1) {
          throw new CheckpointNotFoundException(name, "deleted meanwhile by someone else");
        }
      }
    } catch (SQLException e) {
      throw new CheckpointStoreFailedException(
          name, "cannot delete it from " + description + ": " + sqlMessage(e), e);
    }
    deleteChunksQuietly(id);
  }

  @Override
  public int collectGarbage(Duration olderThan) throws CheckpointStoreFailedException {
    List<String> abandoned = new ArrayList<>();
    try (Connection c = connection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT checkpoint_id FROM mmumesh_checkpoint_pending"
                  + " WHERE started_unix_millis <= ?")) {
        ps.setLong(1, options.clock().millis() - olderThan.toMillis());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            abandoned.add(rs.getString(1));
          }
        }
      }
      for (String id : abandoned) {
        deleteChunks(c, id);
        deletePending(c, id);
      }
      List<String> orphans = new ArrayList<>();
      try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT DISTINCT c.checkpoint_id FROM mmumesh_checkpoint_chunk c WHERE NOT EXISTS"
                      + " (SELECT 1 FROM mmumesh_checkpoint_manifest m"
                      + " WHERE m.checkpoint_id = c.checkpoint_id) AND NOT EXISTS"
                      + " (SELECT 1 FROM mmumesh_checkpoint_pending p"
                      + " WHERE p.checkpoint_id = c.checkpoint_id)");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          orphans.add(rs.getString(1));
        }
      }
      for (String id : orphans) {
        deleteChunks(c, id);
      }
      return abandoned.size() + orphans.size();
    } catch (SQLException e) {
      throw CheckpointStoreFailedException.ofStore(
          description, "cannot collect garbage: " + sqlMessage(e), e);
    }
  }

  @Override
  public void close() {
    pool.close();
  }

  @Override
  public String toString() {
    return "checkpoint store " + description;
  }

  // ---- for the writer and reader (same package)

  StoreOptions options() {
    return options;
  }

  String description() {
    return description;
  }

  /**
   * A pooled connection (autocommit on), checked alive first: after the database restarts, the pool
   * may still hold connections to the old server, which would fail the first statement sent. A dead
   * one is evicted and another taken (a few tries; each waits at most the connection timeout).
   */
  Connection connection() throws SQLException {
    int validSeconds = (int) Math.max(1, Math.min(5, options.connectionTimeout().toSeconds()));
    for (int attempt = 0; ; attempt++) {
      Connection c = pool.getConnection();
      if (c.isValid(validSeconds)) {
        return c;
      }
      pool.evictConnection(c);
      if (attempt == 3) {
        throw new SQLException("no live connection to " + description, "08006");
      }
    }
  }

  /** The stored frame of one chunk, or null if there is no such row. */
  byte[] readChunk(String checkpointId, int partIndex, int chunkIndex) throws SQLException {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT frame FROM mmumesh_checkpoint_chunk"
                    + " WHERE checkpoint_id = ? AND part_index = ? AND chunk_index = ?")) {
      ps.setString(1, checkpointId);
      ps.setInt(2, partIndex);
      ps.setInt(3, chunkIndex);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : null;
      }
    }
  }

  /** The id of the complete checkpoint of that name, or null. */
  static String manifestId(Connection c, String name) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT checkpoint_id FROM mmumesh_checkpoint_manifest WHERE checkpoint_name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  static void deleteChunks(Connection c, String checkpointId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM mmumesh_checkpoint_chunk WHERE checkpoint_id = ?")) {
      ps.setString(1, checkpointId);
      ps.executeUpdate();
    }
  }

  static int deletePending(Connection c, String checkpointId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM mmumesh_checkpoint_pending WHERE checkpoint_id = ?")) {
      ps.setString(1, checkpointId);
      return ps.executeUpdate();
    }
  }

  /**
   * Deletes an abandoned checkpoint's chunks and pending row; if the database cannot (it is the
   * reason the checkpoint failed), {@link #collectGarbage} does it at the next open.
   */
  void abandonQuietly(String checkpointId) {
    try (Connection c = connection()) {
      deleteChunks(c, checkpointId);
      deletePending(c, checkpointId);
    } catch (SQLException | RuntimeException e) {
      // left for collectGarbage: the pending row ages past the grace period, the chunks follow
    }
  }

  /**
   * Deletes a deleted or replaced checkpoint's chunks; if it cannot, they are orphans (garbage).
   */
  void deleteChunksQuietly(String checkpointId) {
    try (Connection c = connection()) {
      deleteChunks(c, checkpointId);
    } catch (SQLException | RuntimeException e) {
      // orphan chunks: collectGarbage deletes them at the next open
    }
  }

  /** An SQL failure as one line: the driver's message and the SQLState. */
  static String sqlMessage(SQLException e) {
    return rootMessage(e) + (e.getSQLState() == null ? "" : " [SQLState " + e.getSQLState() + "]");
  }

  static String rootMessage(Throwable e) {
    String m = e.getMessage();
    Throwable t = e;
    while ((m == null || m.isBlank()) && t.getCause() != null) {
      t = t.getCause();
      m = t.getMessage();
    }
    return m == null ? e.getClass().getSimpleName() : m.strip();
  }
}
