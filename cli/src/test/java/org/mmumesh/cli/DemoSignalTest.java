package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
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
    try (ChildCli demo =
        ChildCli.start(
            line -> line.contains(": gateway on 127.0.0.1:"),
            "demo",
            "--policy",
            "legacy",
            "--progress",
            "on",
            // far more accesses than any machine runs before the signal
            "--workload",
            "identical:vms=2,vcpus=1,pages=64,ws=48,accesses=2000000000",
            "--html",
            dir.resolve("r.html").toString())) {
      demo.awaitUp();

      int exit = demo.sigtermAndWait();

      String all = demo.output();
      assertThat(all).doesNotContain("Exception").doesNotContain("\tat ");
      List<String> after =
          all.lines()
              .dropWhile(l -> !l.contains(": gateway on 127.0.0.1:"))
              .skip(1)
              .filter(l -> !l.matches(".*: \\d+% \\(.*accesses\\)"))
              .toList();
      assertThat(after).as(all).isSubsetOf(List.of("mmumesh: interrupted"));
      assertThat(exit).as(all).isNotZero();
    }
  }

  /**
   * {@code demo --nodes 3} stopped by a signal while its nodes run: the node JVMs it started are
   * stopped before it exits (its shutdown hook), none is left running.
   */
  @Test
  void demoOnNodes_stoppedBySignal_leavesNoNodeRunning(@TempDir Path dir) throws Exception {
    try (ChildCli demo =
        ChildCli.start(
            line -> line.contains(" nodes ready, gateway on 127.0.0.1:"),
            "demo",
            "--nodes",
            "3",
            "--policy",
            "legacy",
            "--progress",
            "on",
            "--workload",
            "identical:vms=2,vcpus=1,pages=64,ws=48,accesses=2000000000",
            "--html",
            dir.resolve("r.html").toString())) {
      demo.awaitUp();
      // the demo starts no process but its node JVMs
      List<ProcessHandle> nodes = demo.descendants();
      assertThat(nodes).as(demo.output()).hasSize(3);

      int exit = demo.sigtermAndWait();

      assertThat(exit).as(demo.output()).isNotZero();
      assertThat(demo.output()).doesNotContain("Exception").doesNotContain("\tat ");
      for (ProcessHandle n : nodes) {
        assertThat(n.isAlive()).as("node JVM %d after the demo exited", n.pid()).isFalse();
      }
    }
  }
}
