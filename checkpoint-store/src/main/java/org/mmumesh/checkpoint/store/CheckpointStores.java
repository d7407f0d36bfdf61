package org.mmumesh.checkpoint.store;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Opens the store a user names: a JDBC URL or a folder (the embedded H2 store). */
public final class CheckpointStores {
  private CheckpointStores() {}

  /**
   * {@code jdbc:postgresql://...} opens a {@link PostgresCheckpointStore}, {@code jdbc:h2:...} an
   * {@link H2CheckpointStore} at that URL, anything else not starting with {@code jdbc:} is a
   * folder for an {@link H2CheckpointStore}; each with its default options.
   *
   * @throws IllegalArgumentException another JDBC database, or not a valid path
   */
  public static CheckpointStore open(String jdbcUrlOrFolder) throws CheckpointStoreFailedException {
    if (jdbcUrlOrFolder == null || jdbcUrlOrFolder.isBlank()) {
      throw new IllegalArgumentException(
          "checkpoint store: empty; allowed jdbc:postgresql://HOST:PORT/DB, jdbc:h2:..., or a"
              + " folder");
    }
    if (jdbcUrlOrFolder.startsWith("jdbc:postgresql:")) {
      return PostgresCheckpointStore.connect(jdbcUrlOrFolder);
    }
    if (jdbcUrlOrFolder.startsWith("jdbc:h2:")) {
      return H2CheckpointStore.openUrl(jdbcUrlOrFolder, H2CheckpointStore.defaultOptions());
    }
    if (jdbcUrlOrFolder.startsWith("jdbc:")) {
      throw new IllegalArgumentException(
          "checkpoint store '"
              + H2CheckpointStore.withoutParameters(jdbcUrlOrFolder)
              + "': unsupported database; allowed jdbc:postgresql://HOST:PORT/DB, jdbc:h2:...,"
              + " or a folder");
    }
    Path folder;
    try {
      folder = Path.of(jdbcUrlOrFolder);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(
          "checkpoint store folder '" + jdbcUrlOrFolder + "': " + e.getMessage(), e);
    }
    return H2CheckpointStore.open(folder);
  }
}
