package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code mmumesh node}'s configuration mistakes: one line naming the option and what is allowed,
 * exit code 2, nothing started (the ports it would bind are still free).
 */
class NodeCommandTest {

  private static void assertOneLine(CliRun run, String line) {
    assertThat(run.exit()).as(run.err()).isEqualTo(2);
    assertThat(run.err().lines().toList()).containsExactly(line);
    assertThat(run.out()).isEmpty();
  }

  private static void assertFree(int port) throws Exception {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
    }
  }

  @Test
  void unknownRole_exits2_namingIt() {
    assertOneLine(
        CliRun.of("node", "--roles", "frames,disk", "--seed-nodes", "127.0.0.1:2551"),
        "mmumesh: --roles: unknown role 'disk'; allowed: frames,gateway,mmu,vcpu");
  }

  @Test
  void malformedSeedNode_exits2_namingIt() {
    assertOneLine(
        CliRun.of("node", "--roles", "mmu", "--seed-nodes", "127.0.0.1"),
        "mmumesh: --seed-nodes: '127.0.0.1' is not a seed node; allowed: host:port with a port"
            + " from 1 to 65535, comma separated (127.0.0.1:25520,127.0.0.1:25521)");
  }

  @Test
  void singleNodeWithoutEveryEntityRole_exits2_namingTheRequiredRoles() {
    CliRun run = CliRun.of("node", "--roles", "vcpu,gateway");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().lines().toList())
        .singleElement()
        .asString()
        .startsWith("mmumesh: --roles: gateway,vcpu on a node without seed nodes")
        .contains("required: frames,mmu,vcpu");
  }

  @Test
  void portInUse_exits2_namingTheOption_andStartsNothing() throws Exception {
    int artery = NodeProcess.freePort();
    int mgmt = NodeProcess.freePort();
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int grpc = taken.getLocalPort();
      CliRun run =
          CliRun.of(
              "node",
              "--port",
              "" + artery,
              "--management-port",
              "" + mgmt,
              "--grpc-port",
              "" + grpc,
              "--metrics-port",
              "0");
      assertThat(run.exit()).as(run.err()).isEqualTo(2);
      assertThat(run.err().lines().toList())
          .singleElement()
          .asString()
          .startsWith("mmumesh: --grpc-port: 127.0.0.1:" + grpc + " cannot be bound (")
          .endsWith("); choose a free port, or 0 for any free one");
    }
    assertFree(artery);
    assertFree(mgmt);
  }

  /**
   * Seed nodes where nothing runs: after {@code mmumesh.mesh.startup-timeout} (5 s here) the node
   * says which seed nodes did not let it join, exits 2 and leaves nothing bound.
   */
  @Test
  void unreachableSeedNodes_exit2_afterTheStartupTimeout_namingThem() throws Exception {
    int nobody1 = NodeProcess.freePort();
    int nobody2 = NodeProcess.freePort();
    int port = NodeProcess.freePort();
    int mgmt = NodeProcess.freePort();
    String seeds = "127.0.0.1:" + nobody1 + ",127.0.0.1:" + nobody2;
    try (NodeProcess node =
        NodeProcess.start(
            List.of("-Dmmumesh.mesh.startup-timeout=5s"),
            List.of(
                "--roles",
                "mmu",
                "--seed-nodes",
                seeds,
                "--port",
                "" + port,
                "--management-port",
                "" + mgmt),
            Map.of(),
            port,
            mgmt)) {
      assertThat(node.process.waitFor(180, TimeUnit.SECONDS)).as(node.output()).isTrue();
      String out = node.outputAfterExit();
      assertThat(node.process.exitValue()).as(out).isEqualTo(2);
      List<String> mine = out.lines().filter(l -> l.startsWith("mmumesh")).toList();
      assertThat(mine)
          .containsExactly(
              "mmumesh: --seed-nodes: no seed node let this node join within 5 s ("
                  + seeds
                  + "); start the first seed node first and check each host:port and that it"
                  + " runs mmumesh");
      assertThat(out.strip().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo(mine.get(0));
    }
    assertFree(port);
    assertFree(mgmt);
  }

  /**
   * The line a node prints when it ends: none for its own stop (SIGTERM runs CoordinatedShutdown
   * with the actor-system-terminate reason), one saying it was downed when the cluster downed it
   * (NodePauseDrillTest sees it from a real downed JVM), the reason's name otherwise.
   */
  @Test
  void endedBy_saysWhyANodeStopped_unlessItWasStopped() {
    assertThat(NodeCommand.endedBy(null)).isNull();
    assertThat(
            NodeCommand.endedBy(
                org.apache.pekko.actor.CoordinatedShutdown.actorSystemTerminateReason()))
        .isNull();
    assertThat(
            NodeCommand.endedBy(org.apache.pekko.actor.CoordinatedShutdown.clusterDowningReason()))
        .startsWith("mmumesh node: this node was downed by the cluster");
    assertThat(
            NodeCommand.endedBy(org.apache.pekko.actor.CoordinatedShutdown.clusterLeavingReason()))
        .isEqualTo("mmumesh node: shut down: ClusterLeavingReason");
  }
}
