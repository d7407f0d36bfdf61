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
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mmumesh demo} in a child JVM stopped by a signal while it runs (SIGTERM from {@link
 * Process#destroy}; Ctrl-C's SIGINT takes the same shutdown path): its embedded gateway drains and
 * the client's calls end {@code UNAVAILABLE}, which must end the demo quietly, with at most the one
 * line "interrupted", never a stack trace.
 */
class DemoSignalTest {

  @Test
  void demo_stoppedBySignalWhileRunning_endsQuietly(@TempDir Path dir) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    Main.class.getName(),
                    "demo",
                    "--policy",
                    "legacy",
                    "--progress",
                    "on",
                    // far more accesses than any machine runs before the signal
                    "--workload",
                    "identical:vms=2,vcpus=1,pages=64,ws=48,accesses=2000000000",
                    "--html",
                    dir.resolve("r.html").toString()))
            .redirectErrorStream(true);
    Process p = pb.start();
    StringBuilder out = new StringBuilder();
    CompletableFuture<Void> running = new CompletableFuture<>();
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
                  if (line.contains(": gateway on 127.0.0.1:")) {
                    running.complete(null);
                  }
                }
              } catch (java.io.IOException e) {
                // the process ended
              }
              running.complete(null);
            });
    reader.start();
    try {
      running.get(180, TimeUnit.SECONDS);
      assertThat(p.isAlive()).as("running:\n" + out).isTrue();

      p.destroy(); // SIGTERM

      assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("exited within 180 s:\n" + out).isTrue();
      reader.join(TimeUnit.SECONDS.toMillis(30));
      synchronized (out) {
        String all = out.toString();
        assertThat(all).doesNotContain("Exception").doesNotContain("\tat ");
        List<String> after =
            all.lines()
                .dropWhile(l -> !l.contains(": gateway on 127.0.0.1:"))
                .skip(1)
                .filter(l -> !l.matches(".*: \\d+% \\(.*accesses\\)"))
                .toList();
        assertThat(after).as(all).isSubsetOf(List.of("mmumesh: interrupted"));
        assertThat(p.exitValue()).as(all).isNotZero();
      }
    } finally {
      p.destroyForcibly();
    }
  }
}
