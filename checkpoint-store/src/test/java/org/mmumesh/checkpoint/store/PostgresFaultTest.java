package org.mmumesh.checkpoint.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Faults of a real PostgreSQL server during a checkpoint (issue 13, "what bad input and faults
 * get"): the server stopped between parts, and a file-size limit standing in for a full disk or
 * quota. Each test owns its server, since it breaks it.
 */
class PostgresFaultTest {
  private static final int CHUNK = 1 << 20;

  @Test
  void databaseStoppedDuringACheckpoint_failsItCleanly_thePreviousStaysIntact() throws Exception {
    Random rnd = new Random(11);
    byte[] before = CheckpointStoreContract.pages(rnd, 3 * CHUNK, 0.3);
    try (PostgresServer server = PostgresServer.startNew();
        JdbcCheckpointStore store =
            PostgresCheckpointStore.connect(
                server.jdbcUrl("postgres"),
                PostgresCheckpointStore.defaultOptions()
                    .withConnectionTimeout(Duration.ofSeconds(2)))) {
      try (CheckpointWriter w = store.begin("before", CheckpointStoreContract.HEADER)) {
        w.putPart("page-frame", "host-0", before);
        w.commit();
      }
      int chunksOfBefore = count(store, "mmumesh_checkpoint_chunk");

      CheckpointWriter w = store.begin("during", CheckpointStoreContract.HEADER);
      w.putPart("page-frame", "host-0", CheckpointStoreContract.pages(rnd, 2 * CHUNK, 0.0));
      server.stopImmediately();
      assertThatThrownBy(
              () ->
                  w.putPart("page-frame", "host-1", CheckpointStoreContract.pages(rnd, CHUNK, 0.0)))
          .isInstanceOf(CheckpointStoreFailedException.class)
          .hasMessageContaining("'during'")
          .hasMessageContaining("part 1 (page-frame host-1) chunk 0")
          .hasMessageContaining("abandoned");
      assertThatThrownBy(w::commit).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(store::list)
          .isInstanceOf(CheckpointStoreFailedException.class)
          .hasMessageContaining("cannot list");

      server.start();
      assertThat(store.list()).extracting(CheckpointSummary::name).containsExactly("before");
      assertThatThrownBy(() -> store.open("during"))
          .isInstanceOf(CheckpointNotFoundException.class);
      try (CheckpointReader r = store.open("before")) {
        r.verify();
        assertThat(r.readPart("page-frame", "host-0")).isEqualTo(before);
      }
      // the database was down when the writer gave up: its chunks wait for garbage collection
      assertThat(count(store, "mmumesh_checkpoint_pending")).isEqualTo(1);
      assertThat(count(store, "mmumesh_checkpoint_chunk")).isGreaterThan(chunksOfBefore);
      assertThat(store.collectGarbage(Duration.ZERO)).isEqualTo(1);
      assertThat(count(store, "mmumesh_checkpoint_chunk")).isEqualTo(chunksOfBefore);
      assertThat(count(store, "mmumesh_checkpoint_pending")).isZero();
    }
  }

  /**
   * A full disk or quota, for real: the server runs under {@code ulimit -f} (32 MiB per file), so
   * the chunk table's TOAST file cannot grow past it and PostgreSQL fails the INSERT ("could not
   * extend file ... File too large", its disk-full path). No mount rights needed.
   */
  @Test
  void fileSizeLimitHitDuringACheckpoint_failsItCleanly_thePreviousStaysIntact() throws Exception {
    Random rnd = new Random(12);
    byte[] before = CheckpointStoreContract.pages(rnd, 2 * CHUNK, 0.0);
    try (PostgresServer server = PostgresServer.startWithFileSizeLimit(32 << 10);
        JdbcCheckpointStore store =
            PostgresCheckpointStore.connect(
                server.jdbcUrl("postgres"), PostgresCheckpointStore.defaultOptions())) {
      try (CheckpointWriter w = store.begin("before", CheckpointStoreContract.HEADER)) {
        w.putPart("page-frame", "host-0", before);
        w.commit();
      }
      int chunksOfBefore = count(store, "mmumesh_checkpoint_chunk");

      CheckpointWriter w = store.begin("too-big", CheckpointStoreContract.HEADER);
      assertThatThrownBy(
              () ->
                  w.putPart(
                      "page-frame", "host-0", CheckpointStoreContract.pages(rnd, 48 * CHUNK, 0.0)))
          .isInstanceOf(CheckpointStoreFailedException.class)
          .hasMessageContaining("'too-big'")
          .hasMessageContaining("could not extend file")
          .hasMessageContaining("abandoned");

      assertThat(store.list()).extracting(CheckpointSummary::name).containsExactly("before");
      try (CheckpointReader r = store.open("before")) {
        assertThat(r.readPart("page-frame", "host-0")).isEqualTo(before);
      }
      // the database still answered: the failed checkpoint's chunks are gone already
      assertThat(count(store, "mmumesh_checkpoint_chunk")).isEqualTo(chunksOfBefore);
      assertThat(count(store, "mmumesh_checkpoint_pending")).isZero();
    }
  }

  private static int count(JdbcCheckpointStore store, String table) throws SQLException {
    try (Connection c = store.connection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
