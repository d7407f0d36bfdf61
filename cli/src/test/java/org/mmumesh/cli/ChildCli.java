package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code bin/mmumesh} in a child JVM (this test JVM's java and class path), its stdout and stderr
 * gathered as one text, for the tests that must signal a real process: start it, wait for the line
 * that says it is up, send SIGTERM ({@link Process#destroy}), wait for it to exit. Every wait is
 * bounded generously (180 s) and asserted; {@link #close} kills the process if a test failed
 * before.
 */
final class ChildCli implements AutoCloseable {
  private static final long WAIT_SECONDS = 180;

  private final Process process;
  private final StringBuilder out = new StringBuilder();
  private final CompletableFuture<Void> up = new CompletableFuture<>();
  private final Thread reader;

  private ChildCli(List<String> args, Predicate<String> upLine) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    reader = new Thread(() -> read(upLine));
    reader.start();
  }

  /** Starts {@code bin/mmumesh args...}; {@code upLine} recognises the line that says it is up. */
  static ChildCli start(Predicate<String> upLine, String... args) throws IOException {
    return new ChildCli(List.of(args), upLine);
  }

  private void read(Predicate<String> upLine) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        synchronized (out) {
          out.append(line).append('\n');
        }
        if (upLine.test(line)) {
          up.complete(null);
        }
      }
    } catch (IOException e) {
      // the process ended
    }
    up.complete(null); // ended without the line: awaitUp's liveness check says so
  }

  /** Waits for the up line and asserts the process is still running. */
  void awaitUp() throws Exception {
    up.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(process.isAlive()).as("running:\n" + output()).isTrue();
  }

  /**
   * Sends SIGTERM and waits for the process to exit and its output to be read.
   *
   * @return the exit code
   */
  int sigtermAndWait() throws Exception {
    process.destroy(); // SIGTERM
    assertThat(process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS))
        .as("exited within " + WAIT_SECONDS + " s:\n" + output())
        .isTrue();
    reader.join(TimeUnit.SECONDS.toMillis(30));
    return process.exitValue();
  }

  /** The child JVM's own processes: the ones it started and theirs. */
  List<ProcessHandle> descendants() {
    return process.descendants().toList();
  }

  /** Everything the process printed so far. */
  String output() {
    synchronized (out) {
      return out.toString();
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
