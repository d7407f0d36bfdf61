package org.mmumesh.checkpoint.store;

import com.zaxxer.hikari.HikariConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The embedded store: an H2 database in a folder ({@value #DATABASE_NAME}.mv.db), the default on
 * one machine. H2 locks the file, so one process uses a folder at a time; that is why an unfinished
 * checkpoint found at open is garbage at once (grace zero).
 */
public final class H2CheckpointStore extends JdbcCheckpointStore {
  /** The database's file name in the folder, without H2's {@code .mv.db}. */
  public static final String DATABASE_NAME = "checkpoints";

  private H2CheckpointStore(HikariConfig config, StoreOptions options, String description)
      throws CheckpointStoreFailedException {
    super(config, options, description);
  }

  /** The default options for H2: 1 MiB chunks, compression when it pays, no grace. */
  public static StoreOptions defaultOptions() {
    return StoreOptions.defaults(Duration.ZERO);
  }

  /** Opens (making it if needed) the store in {@code folder}, with {@link #defaultOptions()}. */
  public static H2CheckpointStore open(Path folder) throws CheckpointStoreFailedException {
    return open(folder, defaultOptions());
  }

  /** Opens (making it if needed) the store in {@code folder}. */
  public static H2CheckpointStore open(Path folder, StoreOptions options)
      throws CheckpointStoreFailedException {
    Path dir = folder.toAbsolutePath().normalize();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw CheckpointStoreFailedException.ofStore(
          dir.toString(), "cannot create the folder: " + e, e);
    }
    return openUrl("jdbc:h2:file:" + dir.resolve(DATABASE_NAME), options);
  }

  /** Opens the store at an H2 JDBC URL ({@code jdbc:h2:file:...}, {@code jdbc:h2:mem:...}). */
  public static H2CheckpointStore openUrl(String jdbcUrl, StoreOptions options)
      throws CheckpointStoreFailedException {
    if (!jdbcUrl.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("H2 JDBC URL: '" + jdbcUrl + "' must start with jdbc:h2:");
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setDriverClassName("org.h2.Driver");
    config.setMaximumPoolSize(4);
    config.setPoolName("checkpoint-store-h2");
    return new H2CheckpointStore(config, options, withoutParameters(jdbcUrl));
  }

  static String withoutParameters(String jdbcUrl) {
    int semi = jdbcUrl.indexOf(';');
    int q = jdbcUrl.indexOf('?');
    int cut = jdbcUrl.length();
    if (semi >= 0) {
      cut = Math.min(cut, semi);
    }
    if (q >= 0) {
      cut = Math.min(cut, q);
    }
    return jdbcUrl.substring(0, cut);
  }
}
