package org.mmumesh.checkpoint.store;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The store's contract on a real PostgreSQL server (the shared throwaway {@link PostgresServer}), a
 * fresh database per test.
 */
class PostgresCheckpointStoreTest extends CheckpointStoreContract {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private String url;

  @Override
  JdbcCheckpointStore openFresh(StoreOptions options) throws Exception {
    url = PostgresServer.shared().createDatabase("contract_" + DATABASES.incrementAndGet());
    return PostgresCheckpointStore.connect(url, options);
  }

  @Override
  JdbcCheckpointStore reopen(StoreOptions options) throws Exception {
    return PostgresCheckpointStore.connect(url, options);
  }

  @Override
  StoreOptions options() {
    return PostgresCheckpointStore.defaultOptions();
  }
}
