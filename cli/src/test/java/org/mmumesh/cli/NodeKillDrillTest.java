package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mmumesh.cli.DrillCluster.Outcome;

/**
 * Failure drill with real JVMs (issue 12 item 7): SIGKILL of a non-gateway node. The three-node
 * {@link DrillCluster} runs a workload, then node 3 ({@code mmu,vcpu}) is killed with SIGKILL while
 * every VM is being called. The split-brain resolver (keep-majority, 2 of 3) downs it and {@code
 * /cluster/members} no longer lists it; meanwhile and afterwards every call gets a clear answer
 * within its deadline (never INTERNAL, UNKNOWN or DEADLINE_EXCEEDED); once it is removed, every
 * call on a VM that had an entity there answers FAILED_PRECONDITION naming the VM and the node, the
 * other VMs read back exactly their state and run on, a new VM is created at once and served, and a
 * new {@code mmu,vcpu} node joins, turns ready and takes the next new VM.
 */
class NodeKillDrillTest {
  @Test
  void sigkillOfANonGatewayNode_isDownedAndAnsweredClearly_andANewNodeRejoinsAndServes()
      throws Exception {
    try (DrillCluster c = DrillCluster.start()) {
      c.load();
      // the victim: a worker holding entities of some VMs while others live wholly on the other
      // worker. The least-loaded allocation places each entity type's shards on its own, so a VM
      // may be split over both workers; more (empty) VMs are created until one is not.
      TreeSet<Integer> ids = new TreeSet<>();
      for (int vm = 0; vm < DrillCluster.VMS; vm++) {
        ids.add(vm);
      }
      NodeProcess found = null;
      NodeProcess other = null;
      TreeSet<Integer> onIt = new TreeSet<>();
      TreeSet<Integer> offIt = new TreeSet<>();
      for (int extra = 20; found == null && extra <= 28; extra++) {
        for (int[] pair : new int[][] {{2, 1}, {1, 2}}) {
          TreeSet<Integer> on = c.vmsOn(c.node(pair[0]), ids);
          if (!on.isEmpty() && on.size() < ids.size()) {
            found = c.node(pair[0]);
            other = c.node(pair[1]);
            onIt = on;
            offIt = new TreeSet<>(ids);
            offIt.removeAll(on);
            break;
          }
        }
        if (found == null) {
          c.createVm(extra);
          ids.add(extra);
        }
      }
      assertThat(found).as("a worker with some VMs and not all, among %s", ids).isNotNull();
      NodeProcess victim = found;
      NodeProcess survivor = other;
      TreeSet<Integer> lost = onIt;
      TreeSet<Integer> kept = offIt;
      Map<Integer, String> before = new TreeMap<>();
      for (int vm : kept) {
        before.put(vm, c.state(vm));
      }

      List<Integer> all = new ArrayList<>(lost);
      all.addAll(kept);
      victim.process.destroyForcibly(); // SIGKILL
      // calls while the node is unreachable and being downed: each answers by its deadline (the
      // kept VMs get the reads only, so that their state can be compared afterwards)
      CompletableFuture<Map<Integer, Map<String, Outcome>>> during =
          CompletableFuture.supplyAsync(() -> c.probeAll(all, kept));
      assertThat(victim.process.waitFor(60, TimeUnit.SECONDS)).isTrue();

      await()
          .atMost(DrillCluster.WAIT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  assertThat(c.members())
                      .as("the victim is downed and removed")
                      .doesNotContain(victim.address())
                      .contains(survivor.address()));
      Map<Integer, Map<String, Outcome>> racing =
          during.get(DrillCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      for (Map<String, Outcome> calls : racing.values()) {
        for (Outcome o : calls.values()) {
          assertThat(o.code())
              .as("a call while the node was lost: %s", o)
              .isNotIn(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.DEADLINE_EXCEEDED);
        }
      }

      // the lost VMs: refused, naming the VM and the node (the loss is marked on removal)
      String victimHostPort = "127.0.0.1:" + victim.port;
      await()
          .atMost(DrillCluster.WAIT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                for (int vm : lost) {
                  for (Outcome o : c.probe(vm).values()) {
                    assertThat(o.code()).as("%s", o).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(o.description())
                        .contains("vm " + vm + " is lost")
                        .contains(victimHostPort);
                  }
                }
              });

      // the others carry on with exactly their state
      for (int vm : kept) {
        assertThat(c.state(vm)).as("vm %d's counters and memory", vm).isEqualTo(before.get(vm));
        for (Outcome o : c.probe(vm).values()) {
          DrillCluster.assertServed("vm " + vm, o);
        }
      }

      // a new VM at once, on the survivor
      c.createVm(10);
      assertThat(c.placement(10)).containsOnly(survivor.address());
      for (Outcome o : c.probe(10).values()) {
        DrillCluster.assertServed("new vm 10", o);
      }

      // a new node with the same roles joins, is ready and serves the next new VM
      NodeProcess fresh = c.startWorker();
      c.awaitReady(fresh);
      await()
          .atMost(DrillCluster.WAIT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  assertThat(c.members().split("\"status\":\"Up\"", -1))
                      .as("three members Up")
                      .hasSize(4));
      assertThat(c.members()).contains(fresh.address()).doesNotContain(victim.address());
      c.createVm(11);
      // the least-loaded allocation: the new node has nothing, so it takes vm 11's entities
      assertThat(c.placement(11)).containsOnly(fresh.address());
      for (Outcome o : c.probe(11).values()) {
        DrillCluster.assertServed("new vm 11 on the new node", o);
      }
      // the lost VMs stay lost: nothing serves them from an empty restart on the new node
      for (int vm : lost) {
        for (Outcome o : c.probe(vm).values()) {
          assertThat(o.code()).as("%s", o).isEqualTo(Status.Code.FAILED_PRECONDITION);
        }
      }
    }
  }
}
