package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The run-time simulation on the mesh: the directory's messages cross nodes (CBOR), a VM created
 * from one node is registered on every node (its entities start on nodes of other roles and run a
 * batch), and the directory entries of a static run are the ones {@code MeshCluster} used before.
 */
class MeshSimulationTest {

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void directoryMessages_roundTripThroughCbor() {
    ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
    try {
      SerializationTestKit ser = new SerializationTestKit(kit.system());
      TestProbe<DirectoryActor.Done> probe = kit.createTestProbe();
      WorkloadSpec spec = WorkloadParser.parse("uniform:vms=2,vcpus=2,pages=64,accesses=10,mmu=32");
      EngineConfig cfg = EngineConfig.defaults(MmuOptions.defaults(Policy.LEGACY));
      MeshDirectory.VmEntry vm = MeshDirectory.ofWorkload(spec, cfg, 1);
      MeshDirectory.HostEntry host = new MeshDirectory.HostEntry(3, true, 4096);
      List<Object> msgs =
          List.of(
              new DirectoryActor.PutHost(1, host, probe.ref()),
              new DirectoryActor.RemoveHost(2, 3, probe.ref()),
              new DirectoryActor.PutVm(3, vm, probe.ref()),
              new DirectoryActor.RemoveVm(4, 1, probe.ref()),
              new DirectoryActor.Done(5),
              new DirectoryActor.Locate(
                  6, "Vcpu", "vm-1/vcpu-0", kit.<DirectoryActor.Located>createTestProbe().ref()),
              new DirectoryActor.Located(7, "pekko://mmumesh-mesh@127.0.0.1:1", "12"),
              new DirectoryActor.Sync(
                  new MeshDirectory.Snapshot(
                      List.of(host),
                      List.of(4),
                      List.of(vm),
                      List.of(5),
                      List.of(
                          new MeshDirectory.Placement(
                              "Vcpu", "vm-1/vcpu-0", "pekko://mmumesh-mesh@127.0.0.1:2")),
                      List.of(
                          new MeshDirectory.Loss(
                              MeshDirectory.VM,
                              1,
                              "pekko://mmumesh-mesh@127.0.0.1:2",
                              "guest MMU, vCPUs 0-1")))));
      for (Object m : msgs) {
        assertThat(ser.verifySerialization(m, false)).isEqualTo(m);
      }
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void apiVm_fitsHtabAndWindowIntoItsMemory_andRefuses64BitOn32BitHost() {
    MeshDirectory.HostEntry h64 = new MeshDirectory.HostEntry(0, false, 1 << 20);
    MmuOptions o = MmuOptions.defaults(Policy.STRICT);
    MeshDirectory.VmEntry v = MeshDirectory.ofApi(5, h64, true, 256, 2, o, 64, true);
    assertThat(v.htabOrigin() + v.htabBytes()).isLessThanOrEqualTo(256L << 12);
    assertThat(v.guest().windowPages() << 12).isLessThanOrEqualTo(v.htabOrigin());
    assertThat(v.vcpuSetup(1).vcpu()).isEqualTo(1);
    assertThat(v.vcpuSetup(1).vm()).isEqualTo(5);
    MeshDirectory.HostEntry h32 = new MeshDirectory.HostEntry(1, true, 1 << 20);
    assertThatThrownBy(() -> MeshDirectory.ofApi(6, h32, true, 256, 1, o, 64, false))
        .hasMessageStartingWith("mmu_kind: ");
  }

  @Test
  void vmCreatedFromOneNode_runsOnNodesOfOtherRoles() {
    List<Set<String>> roles =
        List.of(
            Set.of(MeshEngine.ROLE_FRAMES),
            Set.of(MeshEngine.ROLE_MMU),
            Set.of(MeshEngine.ROLE_VCPU));
    try (MeshCluster c = MeshCluster.startSimulation(roles)) {
      MeshSimulation sim = c.simulation(0);
      join(sim.createHost(0, false, 4096));
      Simulation.VmInfo info =
          join(
              sim.createVm(
                  new Simulation.VmConfig(
                      7, 0, true, 256, 1, MmuOptions.defaults(Policy.FIXED), 64, false)));
      assertThat(info.memslots()).hasSize(1);
      // every node's directory has the VM
      for (int n = 0; n < c.size(); n++) {
        assertThat(c.glue(n).directory().vm(7)).isPresent();
      }
      List<AccessOp> ops = new ArrayList<>();
      for (int p = 0; p < 8; p++) {
        ops.add(new AccessOp(Access.STORE, 0x1000_0000L + p * 4096L, p + 1));
      }
      Simulation.BatchResult r = join(sim.runBatch(7, 0, ops));
      assertThat(r.completed()).as(r.failures().toString()).isEqualTo(8);
      // the invariant check (MeshInvariants) reaches the host's and the VM's entities across nodes
      Simulation.InvariantReport inv = join(sim.checkInvariants());
      assertThat(inv.violations()).isEmpty();
      assertThat(inv.hosts()).isEqualTo(1);
      assertThat(inv.vms()).isEqualTo(1);
      assertThat(join(sim.locate("Vcpu", "vm-7/vcpu-0")).nodeAddress())
          .isEqualTo(c.address(2).toString());
      assertThat(join(sim.locate("HostMmu", "vm-7")).nodeAddress())
          .isEqualTo(c.address(1).toString());
      // an unknown VM is refused before anything is sent
      assertThatThrownBy(() -> join(sim.runBatch(8, 0, ops)))
          .isInstanceOf(CompletionException.class)
          .hasCauseInstanceOf(SimulationException.class)
          .hasMessageContaining("vm 8 not found");
      join(sim.deleteVm(7));
      for (int n = 0; n < c.size(); n++) {
        assertThat(c.glue(n).directory().vm(7)).isEmpty();
      }
      // a facade on another node (a second gateway) sees the host and refuses the deleted id
      MeshSimulation other = c.simulation(2);
      assertThat(join(other.listHosts())).extracting(Simulation.HostInfo::hostId).contains(0);
      assertThatThrownBy(
              () ->
                  join(
                      other.createVm(
                          new Simulation.VmConfig(
                              7, 0, true, 256, 1, MmuOptions.defaults(Policy.FIXED), 64, false))))
          .hasCauseInstanceOf(SimulationException.class)
          .hasMessageContaining("vm 7 already exists (or existed");
      // ksmd's controls are ksmd's: what one facade set, the other reports
      join(sim.ksmControl(0, null, 77L, null));
      assertThat(join(other.ksmControl(0, null, null, 33L)))
          .isEqualTo(new Simulation.KsmControl(0, 77, 33));
      assertThatThrownBy(() -> join(other.createHost(0, false, 4096)))
          .hasCauseInstanceOf(SimulationException.class)
          .hasMessageContaining("host 0 already exists");
    }
  }

  /**
   * A read of more pages than one {@code ReadFrames} chunk, driven from a node without the page
   * frames: every chunk's reply crosses nodes (one reply of 40000 fingerprints would exceed the
   * transport's frame size), and the pages come back in order across the chunk boundaries.
   */
  @Test
  void readMemoryOfManyPages_fromAnotherNode_isReadInChunks_inOrder() {
    List<Set<String>> roles =
        List.of(Set.of(MeshEngine.ROLE_MMU, MeshEngine.ROLE_VCPU), Set.of(MeshEngine.ROLE_FRAMES));
    try (MeshCluster c = MeshCluster.startSimulation(roles)) {
      MeshSimulation sim = c.simulation(0);
      join(sim.createHost(0, false, 1 << 17));
      join(
          sim.createVm(
              new Simulation.VmConfig(
                  3, 0, true, 1 << 16, 1, MmuOptions.defaults(Policy.FIXED), 64, false)));
      int chunk = PageFrame.READ_FRAMES_CHUNK;
      long start = 5;
      int pages = 40_000;
      Map<Long, Long> loaded = new HashMap<>();
      for (long gfn :
          new long[] {
            start, start + 1, chunk - 1, chunk, chunk + 1, 2L * chunk, start + pages - 1
          }) {
        long fp = 0x5EED_0000L + gfn;
        join(sim.loadMemory(3, gfn, new long[] {fp}));
        loaded.put(gfn, fp);
      }
      long blank = join(sim.readMemory(3, start + 2, 1))[0];
      assertThat(loaded).doesNotContainValue(blank);

      long[] read = join(sim.readMemory(3, start, pages));

      assertThat(read).hasSize(pages);
      for (int i = 0; i < pages; i++) {
        assertThat(read[i])
            .as("gfn %d", start + i)
            .isEqualTo(loaded.getOrDefault(start + i, blank));
      }
    }
  }
}
