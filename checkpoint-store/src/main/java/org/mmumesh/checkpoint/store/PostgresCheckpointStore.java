package org.mmumesh.checkpoint.store;

import com.zaxxer.hikari.HikariConfig;
import java.time.Duration;

/**
 * The cluster's store: a PostgreSQL server every node reaches ({@code
 * jdbc:postgresql://host:port/db?user=...}), each node writing its own entities' parts. Several
 * processes share it, so an unfinished checkpoint is garbage only after a grace period (default one
 * hour: a writer on another node may be busy with it right now).
 */
public final class PostgresCheckpointStore extends JdbcCheckpointStore {

  private PostgresCheckpointStore(HikariConfig config, StoreOptions options, String description)
      throws CheckpointStoreFailedException {
    super(config, options, description);
  }

  /** The default options for PostgreSQL: 1 MiB chunks, compression when it pays, one hour grace. */
  public static StoreOptions defaultOptions() {
    return StoreOptions.defaults(Duration.ofHours(1));
  }

  /** Opens the store at {@code jdbc:postgresql://...} with {@link #defaultOptions()}. */
  public static PostgresCheckpointStore connect(String jdbcUrl)
      throws CheckpointStoreFailedException {
    return connect(jdbcUrl, defaultOptions());
  }

  /** Opens the store at {@code jdbc:postgresql://...}, making its tables if missing. */
  public static PostgresCheckpointStore connect(String jdbcUrl, StoreOptions options)
      throws CheckpointStoreFailedException {
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "PostgreSQL JDBC URL: '"
              + H2CheckpointStore.withoutParameters(jdbcUrl)
              + "' must start with jdbc:postgresql:");
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setDriverClassName("org.postgresql.Driver");
    config.setMaximumPoolSize(4);
    config.setPoolName("checkpoint-store-postgresql");
    return new PostgresCheckpointStore(
        config, options, H2CheckpointStore.withoutParameters(jdbcUrl));
  }
}
