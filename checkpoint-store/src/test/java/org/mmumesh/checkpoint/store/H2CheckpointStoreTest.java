package org.mmumesh.checkpoint.store;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store's contract on the embedded H2 store, in a fresh folder per test. */
class H2CheckpointStoreTest extends CheckpointStoreContract {
  @TempDir Path folder;

  @Override
  JdbcCheckpointStore openFresh(StoreOptions options) throws Exception {
    return H2CheckpointStore.open(folder.resolve("store"), options);
  }

  @Override
  JdbcCheckpointStore reopen(StoreOptions options) throws Exception {
    return H2CheckpointStore.open(folder.resolve("store"), options);
  }

  @Override
  StoreOptions options() {
    return H2CheckpointStore.defaultOptions();
  }
}
