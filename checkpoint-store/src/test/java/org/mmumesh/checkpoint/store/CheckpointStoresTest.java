package org.mmumesh.checkpoint.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user names as a store, and the options' ranges. */
class CheckpointStoresTest {
  @TempDir Path folder;

  @Test
  void aFolder_opensTheEmbeddedStoreThere() throws Exception {
    Path dir = folder.resolve("cp");
    try (CheckpointStore store = CheckpointStores.open(dir.toString())) {
      assertThat(store).isInstanceOf(H2CheckpointStore.class);
      assertThat(store.list()).isEmpty();
    }
    assertThat(Files.exists(dir.resolve(H2CheckpointStore.DATABASE_NAME + ".mv.db"))).isTrue();
  }

  @Test
  void anH2Url_opensTheEmbeddedStoreAtIt() throws Exception {
    try (CheckpointStore store =
        CheckpointStores.open("jdbc:h2:file:" + folder.resolve("x").toAbsolutePath())) {
      assertThat(store).isInstanceOf(H2CheckpointStore.class);
    }
  }

  @Test
  void anotherDatabaseOrNothing_isRefusedNamingWhatIsAllowed() {
    assertThatThrownBy(() -> CheckpointStores.open("jdbc:mysql://db:3306/x?password=secret"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jdbc:mysql://db:3306/x")
        .hasMessageNotContaining("secret")
        .hasMessageContaining("allowed jdbc:postgresql://HOST:PORT/DB, jdbc:h2:..., or a folder");
    assertThatThrownBy(() -> CheckpointStores.open(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void anUnreachablePostgres_failsToOpenWithAClearError() {
    assertThatThrownBy(
            () ->
                PostgresCheckpointStore.connect(
                    "jdbc:postgresql://127.0.0.1:1/none?user=x",
                    PostgresCheckpointStore.defaultOptions()
                        .withConnectionTimeout(Duration.ofMillis(500))))
        .isInstanceOf(CheckpointStoreFailedException.class)
        .hasMessageContaining(
            "checkpoint store jdbc:postgresql://127.0.0.1:1/none: cannot connect");
  }

  @Test
  void options_outOfRange_areRefusedNamingTheRange() {
    StoreOptions d = H2CheckpointStore.defaultOptions();
    assertThatThrownBy(() -> d.withChunkSizeBytes(1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("chunkSizeBytes: 1000; allowed 65536-67108864");
    assertThatThrownBy(() -> d.withPendingGrace(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pendingGrace");
    assertThatThrownBy(() -> d.withConnectionTimeout(Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allowed >= 250 ms");
  }
}
