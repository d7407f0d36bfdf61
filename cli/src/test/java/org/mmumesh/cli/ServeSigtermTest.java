package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code mmumesh serve} in a child JVM stops cleanly on SIGTERM ({@link Process#destroy} sends it):
 * the graceful shutdown runs and the process exits 0, not the JVM's 143.
 */
class ServeSigtermTest {

  @Test
  void serve_onSigterm_shutsDownGracefully_andExitsZero() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    Main.class.getName(),
                    "serve",
                    "--port",
                    "0",
                    "--metrics-port",
                    "0",
                    "--drain-seconds",
                    "1"))
            .redirectErrorStream(true);
    Process p = pb.start();
    StringBuilder out = new StringBuilder();
    CompletableFuture<Void> serving = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  synchronized (out) {
                    out.append(line).append('\n');
                  }
                  if (line.startsWith("mmumesh gateway on")) {
                    serving.complete(null);
                  }
                }
              } catch (java.io.IOException e) {
                // the process ended
              }
              serving.complete(null);
            });
    reader.start();
    try {
      serving.get(180, TimeUnit.SECONDS);
      assertThat(p.isAlive()).as("serving:\n" + out).isTrue();

      p.destroy(); // SIGTERM

      assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("exited within 180 s:\n" + out).isTrue();
      reader.join(TimeUnit.SECONDS.toMillis(30));
      synchronized (out) {
        assertThat(p.exitValue()).as(out.toString()).isZero();
        assertThat(out).doesNotContain("Exception");
      }
    } finally {
      p.destroyForcibly();
    }
  }
}
