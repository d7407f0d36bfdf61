package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.mmumesh.mesh.NodeStates.entities;
import static org.mmumesh.mesh.NodeStates.join;
import static org.mmumesh.mesh.NodeStates.regions;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.mesh.NodeStates.VmState;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * Losing a node never loses state silently (issue 12 item 8). Node 0 (frames, the driving facade)
 * and node 1 (MMUs, vCPUs) are a {@link MeshCluster}; a third node with the MMU role joins and
 * takes the guest and host MMUs of half of the VMs (least-loaded allocation), then its actor system
 * stops abruptly (no leaving: as a SIGKILL) and is downed (as the split-brain resolver would).
 * Then: a batch whose faults wait for the dead node ends ABORTED ({@link
 * SimulationException.Kind#LOST}) naming the VM, the node and what was lost; every later call on a
 * lost VM is refused (WRONG_STATE) with the same words; every other VM reads back exactly its state
 * and runs on; a new VM is created and runs at once; a lost VM can be deleted. An entity that
 * starts away from its placement refuses to serve (the second test, with the placement given).
 */
class NodeLossTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final int VMS = 6;
  private static final int PAGES = 256;
  private static final int TOUCHED = 6;
  private static final long BASE = 0x1000_0000L;

  private static SimulationException failure(CompletionStage<?> s) {
    Throwable t = catchThrowable(() -> join(s));
    assertThat(t).isInstanceOf(CompletionException.class);
    assertThat(t.getCause()).isInstanceOf(SimulationException.class);
    return (SimulationException) t.getCause();
  }

  private static VmState read(Simulation sim, int vm) {
    return VmState.read(sim, vm, PAGES, TOUCHED, BASE);
  }

  private static List<AccessOp> ops(int vm, int vcpu) {
    List<AccessOp> ops = new ArrayList<>();
    for (int p = 0; p < TOUCHED; p++) {
      ops.add(new AccessOp(Access.STORE, BASE + p * 4096L, vm * 100 + vcpu * 10 + p));
      ops.add(new AccessOp(Access.LOAD, BASE + p * 4096L, 0));
    }
    return ops;
  }

  private static void createAndRun(Simulation sim, int vm) {
    join(
        sim.createVm(
            new Simulation.VmConfig(
                vm, 0, true, PAGES, 2, MmuOptions.defaults(Policy.STRICT), 64, false)));
    long[] fps = new long[PAGES / 2];
    for (int i = 0; i < fps.length; i++) {
      fps[i] = 0x10ad_0000_0000L + vm * 1_000_003L + i;
    }
    join(sim.loadMemory(vm, 0, fps));
    for (int v = 0; v < 2; v++) {
      Simulation.BatchResult r = join(sim.runBatch(vm, v, ops(vm, v)));
      assertThat(r.completed()).as(r.failures().toString()).isEqualTo(2L * TOUCHED);
    }
  }

  /**
   * An entity that starts on a node other than the one its placement names (its shard allocated
   * again after a loss) refuses to serve, with the reason, instead of serving empty state: the
   * placements are given to the node's directory as a peer's {@code Sync} would bring them.
   */
  @Test
  void entityStartingAwayFromItsPlacement_refusesToServe() throws Exception {
    try (MeshCluster c = MeshCluster.startSimulation(List.of(MeshEngine.ALL_ROLES))) {
      MeshSimulation sim = c.simulation(0);
      join(sim.createHost(0, false, 1 << 16));
      join(
          sim.createVm(
              new Simulation.VmConfig(
                  1, 0, true, PAGES, 1, MmuOptions.defaults(Policy.STRICT), 64, false)));
      String elsewhere = "pekko://mmumesh-mesh@192.0.2.1:25520";
      c.glue(0)
          .directory()
          .merge(
              new MeshDirectory.Snapshot(
                  null,
                  null,
                  null,
                  null,
                  List.of(
                      new MeshDirectory.Placement("GuestMmu", GuestMmu.entityId(1), elsewhere),
                      new MeshDirectory.Placement("HostMmu", HostMmu.entityId(1), elsewhere),
                      new MeshDirectory.Placement("Vcpu", Vcpu.entityId(1, 0), elsewhere)),
                  null));
      GuestMmu.RcReply reply =
          AskPattern.<GuestMmu.Command, GuestMmu.RcReply>ask(
                  c.glue(0).vm(1).guest(),
                  r -> new GuestMmu.ReadRc(1, 0, BASE, r),
                  WAIT,
                  c.system(0).scheduler())
              .toCompletableFuture()
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(reply).isInstanceOf(GuestMmu.Rejected.class);
      assertThat(((GuestMmu.Rejected) reply).reason())
          .contains("its state was on node " + elsewhere, "refuses to serve");
      // the host MMU too: no lookup answered from an empty shadow table
      HostMmu.LookupReply lookup =
          AskPattern.<HostMmu.Command, HostMmu.LookupReply>ask(
                  c.glue(0).vm(1).host(),
                  r -> new HostMmu.Lookup(7, 0, 0x123, BASE, r),
                  WAIT,
                  c.system(0).scheduler())
              .toCompletableFuture()
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(lookup).isInstanceOf(HostMmu.Rejected.class);
      assertThat(((HostMmu.Rejected) lookup).reason())
          .contains("its state was on node " + elsewhere, "refuses to serve");
      // the vCPU's refusal reaches the caller with its reason
      SimulationException e = failure(sim.traceAccess(1, 0, new AccessOp(Access.LOAD, BASE, 0)));
      assertThat(e.kind()).isEqualTo(SimulationException.Kind.WRONG_STATE);
      assertThat(e.getMessage()).contains("its state was on node " + elsewhere);
    }
  }

  @Test
  void lostNode_itsVmsSaySo_theOthersKeepTheirState_andANewVmRunsAtOnce() throws Exception {
    try (MeshCluster c =
        MeshCluster.startSimulation(
            List.of(
                Set.of(MeshEngine.ROLE_FRAMES),
                Set.of(MeshEngine.ROLE_MMU, MeshEngine.ROLE_VCPU)))) {
      ActorSystem<Guardian.Command> doomed =
          ActorSystem.create(
              Guardian.create(new MeshDirectory()),
              MeshEngine.SYSTEM_NAME,
              MeshEngine.config(
                  ConfigFactory.empty()
                      .withValue("mmumesh.mesh.port", ConfigValueFactory.fromAnyRef(0))
                      .withValue(
                          "mmumesh.mesh.roles",
                          ConfigValueFactory.fromIterable(List.of(MeshEngine.ROLE_MMU)))
                      .withValue(
                          "pekko.cluster.min-nr-of-members", ConfigValueFactory.fromAnyRef(1))
                      // stopping it below is abrupt: no leaving, no shard hand-off
                      .withValue(
                          "pekko.coordinated-shutdown.run-by-actor-system-terminate",
                          ConfigValueFactory.fromAnyRef("off"))));
      try {
        Cluster.get(doomed).manager().tell(Join.create(c.address(0)));
        await()
            .atMost(WAIT)
            .until(() -> Cluster.get(doomed).selfMember().status() == MemberStatus.up());
        for (EntityTypeKey<?> k : List.of(GuestMmu.ENTITY_KEY, HostMmu.ENTITY_KEY)) {
          await().atMost(WAIT).until(() -> regions(doomed, k).contains(doomed.address()));
        }
        MeshSimulation sim = c.simulation(0);
        join(sim.createHost(0, false, 1 << 16));
        for (int vm = 0; vm < VMS; vm++) {
          createAndRun(sim, vm);
        }
        String dead = doomed.address().toString();
        Set<String> there = new TreeSet<>();
        Set<MeshDirectory.Placement> placedThere = new java.util.HashSet<>();
        for (EntityTypeKey<?> k : List.of(GuestMmu.ENTITY_KEY, HostMmu.ENTITY_KEY)) {
          for (String e : entities(doomed, k)) {
            there.add(e);
            placedThere.add(new MeshDirectory.Placement(k.name(), e, dead));
          }
        }
        List<Integer> lost = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        for (int vm = 0; vm < VMS; vm++) {
          String id = "vm-" + vm;
          boolean any = there.stream().anyMatch(e -> e.equals(id) || e.startsWith(id + "/"));
          (any ? lost : kept).add(vm);
        }
        // least-loaded allocation spread the VMs over both MMU/vCPU nodes
        assertThat(lost).isNotEmpty();
        assertThat(kept).isNotEmpty();
        int hangingVm = lost.get(0);
        Map<Integer, VmState> before = new HashMap<>();
        for (int vm : kept) {
          before.put(vm, read(sim, vm));
        }
        // the facade located the host's page frames and recorded them (node 0, frames)
        await()
            .atMost(WAIT)
            .until(
                () ->
                    c.glue(1)
                        .directory()
                        .lost()
                        .placement("PageFrame", "host-0")
                        .map(p -> p.node().equals(c.address(0).toString()))
                        .orElse(false));
        // every node heard where the doomed node's entities started
        for (int n = 0; n < c.size(); n++) {
          MeshDirectory d = c.glue(n).directory();
          await()
              .atMost(WAIT)
              .until(
                  () ->
                      d.lost().placements().stream()
                          .filter(p -> p.node().equals(dead))
                          .collect(java.util.stream.Collectors.toSet())
                          .equals(placedThere));
        }

        doomed.terminate();
        doomed.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        // untouched pages: the vCPU faults and asks the dead node's guest MMU, unanswered until the
        // loss is known
        List<AccessOp> fresh = new ArrayList<>();
        for (int p = 0; p < TOUCHED; p++) {
          fresh.add(new AccessOp(Access.LOAD, BASE + (20 + p) * 4096L, 0));
        }
        CompletableFuture<Simulation.BatchResult> hanging =
            sim.runBatch(hangingVm, 0, fresh).toCompletableFuture();
        Cluster.get(c.system(0)).manager().tell(new Down(doomed.address()));

        SimulationException aborted = failure(hanging);
        assertThat(aborted.kind()).isEqualTo(SimulationException.Kind.LOST);
        assertThat(aborted.getMessage())
            .contains("vm " + hangingVm + " is lost", dead, "guest MMU, host MMU")
            .contains("the call was running");

        for (int vm : lost) {
          for (CompletionStage<?> call :
              List.<CompletionStage<?>>of(
                  sim.readMemory(vm, 0, 1),
                  sim.readRc(vm, 0, BASE),
                  sim.vmStats(vm),
                  sim.runBatch(vm, 1, ops(vm, 1)),
                  sim.locate("GuestMmu", GuestMmu.entityId(vm)))) {
            SimulationException e = failure(call);
            assertThat(e.kind()).isEqualTo(SimulationException.Kind.WRONG_STATE);
            assertThat(e.getMessage()).contains("vm " + vm + " is lost", "node " + dead);
          }
          // every node's directory knows it
          for (int n = 0; n < c.size(); n++) {
            MeshDirectory d = c.glue(n).directory();
            await().atMost(WAIT).until(() -> d.vmLost(vm).isPresent());
          }
        }
        for (int vm : kept) {
          assertThat(read(sim, vm)).as("vm " + vm).isEqualTo(before.get(vm));
          Simulation.BatchResult r = join(sim.runBatch(vm, 1, ops(vm, 1)));
          assertThat(r.completed()).isEqualTo(2L * TOUCHED);
        }
        createAndRun(sim, VMS);
        assertThat(join(sim.locate("GuestMmu", GuestMmu.entityId(VMS))).nodeAddress())
            .isEqualTo(c.address(1).toString());
        join(sim.deleteVm(hangingVm));
        assertThat(failure(sim.getVm(hangingVm)).kind())
            .isEqualTo(SimulationException.Kind.NOT_FOUND);
      } finally {
        doomed.terminate();
      }
    }
  }
}
