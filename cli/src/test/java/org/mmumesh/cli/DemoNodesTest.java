package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mmumesh demo --nodes 3} (issue 12 item 4): each policy runs on its own three-JVM loopback
 * cluster (gateway and frames, MMUs, vCPUs in separate processes) and the table is exactly the
 * one-node table, lockstep being deterministic; the node JVMs are gone when the command returns.
 * Bad node counts are one line naming {@code --nodes} and its range, exit 2, nothing started.
 */
class DemoNodesTest {
  /** Small (CI time): identical guests, a warm-up merge, reads and stores breaking merges. */
  private static final String WORKLOAD =
      "identical:vms=2,vcpus=1,pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=1001,seed=5";

  private static CliRun demo(Path dir, String nodes) {
    return CliRun.of(
        "demo",
        "--nodes",
        nodes,
        "--policy",
        "legacy",
        "--workload",
        WORKLOAD,
        "--ksm-pages-to-scan",
        "100",
        "--ksm-sleep-ms",
        "1",
        "--html",
        dir.resolve("demo-" + nodes + ".html").toString(),
        "--progress",
        "off");
  }

  @Test
  void threeNodeJvms_printTheOneNodeTable_andLeaveNoJvmRunning(@TempDir Path dir) {
    List<ProcessHandle> before = ProcessHandle.current().children().toList();
    CliRun three = demo(dir, "3");
    assertThat(three.exit()).as(three.err()).isZero();
    assertThat(
            ProcessHandle.current()
                .children()
                .filter(ProcessHandle::isAlive)
                .filter(p -> !before.contains(p))
                .toList())
        .as("no node JVM outlives the demo")
        .isEmpty();
    CliRun one = demo(dir, "1");
    assertThat(one.exit()).as(one.err()).isZero();

    List<String> rows = tableRows(three.out());
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0)).startsWith("legacy");
    assertThat(rows).as("the one-node table").isEqualTo(tableRows(one.out()));
    assertThat(three.out())
        .contains("3-node cluster of separate JVMs on loopback (roles gateway,frames | mmu | vcpu");
  }

  @Test
  void badNodeCounts_areOneLineNamingTheOption_exitTwo() {
    for (String n : List.of("0", "17", "-3")) {
      CliRun r = CliRun.of("demo", "--nodes", n, "--progress", "off");
      assertThat(r.exit()).as(n).isEqualTo(2);
      assertThat(r.err())
          .isEqualTo("mmumesh: --nodes: " + n + " is out of range; allowed 1 to 16\n");
      assertThat(r.out()).as("nothing ran").isEmpty();
    }
    CliRun word = CliRun.of("demo", "--nodes", "three", "--progress", "off");
    assertThat(word.exit()).isEqualTo(2);
    assertThat(word.err()).contains("--nodes").contains("three").doesNotContain("Exception");
  }

  /** The comparison table's policy rows. */
  private static List<String> tableRows(String out) {
    List<String> rows = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.matches("^(legacy|fixed|strict)\\S*\\s+[0-9,]+\\s.*")) {
        rows.add(line.strip());
      }
    }
    return rows;
  }
}
