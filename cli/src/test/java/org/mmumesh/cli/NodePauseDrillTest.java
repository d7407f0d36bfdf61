package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import java.time.Duration;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.mmumesh.cli.DrillCluster.Outcome;

/**
 * Failure drill with real JVMs (issue 12 item 7): SIGSTOP then SIGCONT of a non-gateway node, as a
 * long GC pause or a partition would. While node 3 ({@code mmu,vcpu}) is stopped the others find it
 * unreachable and the split-brain resolver downs it; the VMs with an entity there are refused,
 * naming the VM and the node. After SIGCONT the node must not come back and serve its stale state:
 * it finds itself downed, prints so, shuts down through CoordinatedShutdown and its process exits
 * (0, as after any stop that is not a failure of its own); all the while the gateway's member list
 * never shows it again and its VMs stay refused, and a new VM goes to the node that remains.
 */
class NodePauseDrillTest {
  @Test
  void sigstopThenSigcont_theNodeIsDowned_andShutsItselfDownInsteadOfServing() throws Exception {
    try (DrillCluster c = DrillCluster.start()) {
      c.load();
      NodeProcess victim = c.node(2);
      NodeProcess survivor = c.node(1);
      TreeSet<Integer> lost = c.vmsOn(victim);
      assertThat(lost).as("VMs with an entity on the paused node").isNotEmpty();
      String victimHostPort = "127.0.0.1:" + victim.port;

      DrillCluster.signal(victim, "STOP");
      await()
          .atMost(DrillCluster.WAIT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  assertThat(c.members())
                      .as("the paused node is downed and removed")
                      .doesNotContain(victim.address())
                      .contains(survivor.address()));
      await()
          .atMost(DrillCluster.WAIT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(() -> assertLost(c, lost, victimHostPort));
      assertThat(victim.process.isAlive()).as("stopped, not dead").isTrue();

      DrillCluster.signal(victim, "CONT");
      // until it has exited, and after: never a member again, its VMs never served
      await()
          .atMost(DrillCluster.WAIT)
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                assertThat(c.members()).doesNotContain(victim.address());
                assertLost(c, lost, victimHostPort);
                return !victim.process.isAlive();
              });
      String output = victim.outputAfterExit();
      assertThat(victim.process.exitValue()).as(output).isZero();
      assertThat(output).contains("mmumesh node: this node was downed by the cluster");
      assertThat(c.members()).doesNotContain(victim.address());
      assertLost(c, lost, victimHostPort);

      c.createVm(10);
      assertThat(c.placement(10)).containsOnly(survivor.address());
      for (Outcome o : c.probe(10).values()) {
        DrillCluster.assertServed("new vm 10", o);
      }
    }
  }

  private static void assertLost(DrillCluster c, TreeSet<Integer> lost, String node) {
    for (int vm : lost) {
      for (Outcome o : c.probe(vm).values()) {
        assertThat(o.code()).as("%s", o).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(o.description()).contains("vm " + vm + " is lost").contains(node);
      }
    }
  }
}
