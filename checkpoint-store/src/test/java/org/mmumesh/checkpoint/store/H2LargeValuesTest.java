package org.mmumesh.checkpoint.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of 1 MiB rows in the embedded store, uncompressed. With H2 2.5.252 this corrupted the
 * database file ("File corrupted in chunk 29, expected page length 4..4, got 1048653", then the
 * background writer's "Illegal page length" panic) after some 200 MiB of chunks, found by
 * CheckpointStoreBenchmark; H2 2.3.232 (the parent pom's pin) passes. Kept so that an H2 upgrade is
 * tested against it.
 */
class H2LargeValuesTest {
  @TempDir Path folder;

  @Test
  void manyMegabyteChunks_roundTrip_withoutCorruptingTheDatabase() throws Exception {
    int parts = 4;
    int partBytes = 64 << 20;
    try (JdbcCheckpointStore store =
        H2CheckpointStore.open(folder, H2CheckpointStore.defaultOptions().withCompress(false))) {
      try (CheckpointWriter w = store.begin("large", CheckpointStoreContract.HEADER)) {
        for (int p = 0; p < parts; p++) {
          w.putPart(
              "page-frame",
              "host-" + p,
              CheckpointStoreContract.pages(new Random(p), partBytes, 0.75));
        }
        w.commit();
      }
      try (CheckpointReader r = store.open("large")) {
        for (int p = 0; p < parts; p++) {
          byte[] expected = CheckpointStoreContract.pages(new Random(p), partBytes, 0.75);
          try (InputStream in = r.openPart(r.part("page-frame", "host-" + p).orElseThrow())) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
          }
        }
      }
    }
  }
}
