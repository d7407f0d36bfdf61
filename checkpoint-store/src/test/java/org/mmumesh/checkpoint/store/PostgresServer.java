package org.mmumesh.checkpoint.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real, throwaway PostgreSQL server for tests (and the bench): {@code initdb} into a temporary
 * directory, {@code pg_ctl start} on a free loopback port with its socket in that directory, as the
 * {@code postgres} user (through {@code runuser}) when the JVM runs as root; stopped and deleted by
 * {@link #close()} or, failing that, at JVM exit. No mocks: the tests that claim PostgreSQL talk to
 * this server over JDBC.
 *
 * <p>The binaries are found in {@code $MMUMESH_PG_BIN}, else the newest {@code
 * /usr/lib/postgresql/VERSION/bin} (Debian's {@code postgresql} package; {@code bin/mmumesh-test}
 * installs it). If there are none, starting fails with a message saying so: the PostgreSQL tests
 * then FAIL rather than skip, so that a run that did not test PostgreSQL never looks green.
 */
public final class PostgresServer implements AutoCloseable {
  private static final String USER = "mmumesh";
  private static PostgresServer shared;

  private final Path bin;
  private final Path dir;
  private final Path data;
  private final int port;
  private final Long fileSizeLimitKib;
  private final boolean asPostgresUser;
  private final Thread shutdownHook;
  private boolean running;

  private PostgresServer(Long fileSizeLimitKib) {
    this.bin = binDir();
    this.fileSizeLimitKib = fileSizeLimitKib;
    this.asPostgresUser = "root".equals(System.getProperty("user.name"));
    try {
      this.dir = Files.createTempDirectory("mmumesh-pg-");
      this.data = dir.resolve("data");
      if (asPostgresUser) {
        UserPrincipal pg =
            dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        Files.setOwner(dir, pg);
      }
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        this.port = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "PostgreSQL test server: cannot prepare its directory (is there a 'postgres' user?)", e);
    }
    shutdownHook = new Thread(this::stopQuietly, "postgres-test-server-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    run(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync"),
        false);
    start();
  }

  /** A new server (one per call): close it when done. */
  public static PostgresServer startNew() {
    return new PostgresServer(null);
  }

  /**
   * A new server whose every file is limited to {@code kib} KiB ({@code ulimit -f}): writing past
   * it fails with EFBIG, which PostgreSQL reports as it does a full disk ("could not extend file").
   * A real file-system failure, caused for real, without mount rights.
   */
  public static PostgresServer startWithFileSizeLimit(long kib) {
    return new PostgresServer(kib);
  }

  /** One server for the whole test JVM, started on first use, stopped at JVM exit. */
  public static synchronized PostgresServer shared() {
    if (shared == null) {
      shared = startNew();
    }
    return shared;
  }

  /**
   * The directory of {@code initdb} and {@code pg_ctl}.
   *
   * @throws IllegalStateException none found, saying where it looked and how to install them
   */
  public static Path binDir() {
    String env = System.getenv("MMUMESH_PG_BIN");
    if (env != null && !env.isBlank()) {
      Path p = Path.of(env);
      if (Files.isExecutable(p.resolve("initdb")) && Files.isExecutable(p.resolve("pg_ctl"))) {
        return p;
      }
      throw new IllegalStateException(
          "PostgreSQL test server: MMUMESH_PG_BIN=" + env + " has no executable initdb and pg_ctl");
    }
    Path root = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(root)) {
      try (Stream<Path> versions = Files.list(root)) {
        Path best =
            versions
                .map(v -> v.resolve("bin"))
                .filter(b -> Files.isExecutable(b.resolve("initdb")))
                .max(
                    Comparator.comparingInt(
                        b -> {
                          try {
                            return Integer.parseInt(b.getParent().getFileName().toString());
                          } catch (NumberFormatException e) {
                            return 0;
                          }
                        }))
                .orElse(null);
        if (best != null) {
          return best;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException(
        "PostgreSQL test server: no PostgreSQL server binaries (looked for"
            + " /usr/lib/postgresql/*/bin/initdb and $MMUMESH_PG_BIN). Install Debian's"
            + " 'postgresql' package (bin/mmumesh-test does) or set MMUMESH_PG_BIN to the"
            + " directory holding initdb and pg_ctl. The PostgreSQL tests fail rather than skip.");
  }

  /** Starts the (stopped) server again on the same port and data. */
  public synchronized void start() {
    String opts =
        "-p "
            + port
            + " -k "
            + dir
            + " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off";
    List<String> cmd =
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            dir.resolve("server.log").toString(),
            "-w",
            "-t",
            "120",
            "-o",
            opts,
            "start");
    if (fileSizeLimitKib != null) {
      List<String> shell = new ArrayList<>();
      shell.add("/bin/bash");
      shell.add("-c");
      shell.add("ulimit -f " + fileSizeLimitKib + " && exec \"$@\"");
      shell.add("pg_ctl");
      shell.addAll(cmd);
      cmd = shell;
    }
    run(cmd, true);
    running = true;
  }

  /** {@code pg_ctl stop -m immediate}: the server dies at once, as in a crash or a kill. */
  public synchronized void stopImmediately() {
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-m",
            "immediate",
            "-w",
            "stop"),
        true);
    running = false;
  }

  /** The JDBC URL of a database on this server. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
  }

  /** Creates a fresh database and returns its JDBC URL (one per test keeps tests apart). */
  public String createDatabase(String database) {
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"));
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + database);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL test server: CREATE DATABASE " + database, e);
    }
    return jdbcUrl(database);
  }

  /** The server's log (for failure messages). */
  public String log() {
    try {
      return Files.readString(dir.resolve("server.log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no server log: " + e + ")";
    }
  }

  @Override
  public synchronized void close() {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs stopQuietly anyway
    }
  }

  private synchronized void stopQuietly() {
    if (running) {
      try {
        run(
            List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-m",
                "immediate",
                "-w",
                "stop"),
            true);
      } catch (RuntimeException e) {
        // best effort at exit
      }
      running = false;
    }
    deleteRecursively(dir);
  }

  private void run(List<String> command, boolean withLog) {
    List<String> cmd = new ArrayList<>();
    if (asPostgresUser) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(command);
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("command.out").toFile())
              .start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "PostgreSQL test server: " + String.join(" ", cmd) + " did not finish in 180 s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "PostgreSQL test server: "
                + String.join(" ", cmd)
                + " exited "
                + p.exitValue()
                + ":\n"
                + Files.readString(dir.resolve("command.out"))
                + (withLog ? "\nserver log:\n" + log() : ""));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("PostgreSQL test server: " + String.join(" ", cmd), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // a temp directory: the OS cleans what is left
                }
              });
    } catch (IOException e) {
      // as above
    }
  }
}
