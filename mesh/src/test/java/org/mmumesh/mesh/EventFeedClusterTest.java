package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/**
 * The event feed across a three-node cluster (frames, mmu, vcpu on separate nodes): a watcher on
 * node 0 sees the faults of the vCPU on node 2, the maps of the host MMU on node 1, and the KSM
 * merge and the COW break of the page frames, each with the right VM, vCPU, addresses and host.
 */
class EventFeedClusterTest {

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void aWatcherOnNode0_seesEventsOfEntitiesOnOtherNodes() throws Exception {
    List<Set<String>> roles =
        List.of(
            Set.of(MeshEngine.ROLE_FRAMES),
            Set.of(MeshEngine.ROLE_MMU),
            Set.of(MeshEngine.ROLE_VCPU));
    try (MeshCluster c = MeshCluster.startSimulation(roles)) {
      EventFeed feed = EventFeed.forNode(c.address(0)).orElseThrow();
      Semaphore wake = new Semaphore(0);
      EventSubscription s = feed.subscribe(MeshEvent.Filter.ALL, 10_000, wake::release);
      Set<String> nodes = s.attachedTo(3).toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(nodes)
          .containsExactlyInAnyOrder(
              c.address(0).toString(), c.address(1).toString(), c.address(2).toString());

      MeshSimulation sim = c.simulation(0);
      join(sim.createHost(0, false, 4096));
      join(
          sim.createVm(
              new Simulation.VmConfig(
                  7, 0, true, 256, 1, MmuOptions.defaults(Policy.FIXED), 64, true)));
      long fp = 0x5A5A_0000_1234L;
      join(sim.loadMemory(7, 2, new long[] {fp, fp}));
      // a load and a store through the window (EA 0x1000_0000 + gfn * 4 KiB)
      Simulation.BatchResult r =
          join(
              sim.runBatch(
                  7,
                  0,
                  List.of(
                      new AccessOp(Access.LOAD, 0x1000_2000L, 0),
                      new AccessOp(Access.LOAD, 0x1000_3000L, 0))));
      assertThat(r.completed()).as(r.failures().toString()).isEqualTo(2);
      // The loads' faults hold KVM's page reference (their lease) until their retried access has
      // executed; the vCPU then sends ReleaseLease through node 2's entity forwarder and shard
      // region, while the batch's answer comes here directly: the answer can overtake the
      // release. ksmd's write_protect_page refuses a referenced frame (FaultPageRefs), so passes
      // run before the release arrives merge nothing (the loaded soak's failure: no MERGE, no
      // COW_BREAK). Wait until node 0's page frames hold no lease, then the passes must merge.
      Awaitility.await("the loads' page references dropped")
          .atMost(60, TimeUnit.SECONDS)
          .until(() -> join(sim.hostStats(0)).get("leases_held") == 0L);
      join(sim.ksmControl(0, 1, null, null));
      Map<String, Long> passes = join(sim.ksmPasses(0, 3));
      assertThat(passes.get("pages_sharing")).as("gfns 2 and 3 merged: " + passes).isEqualTo(1);
      // ksmd stopped before the store, so that its timer merges nothing more while the events
      // are read: the store's COW break is the last change
      join(sim.ksmControl(0, 0, null, null));
      Simulation.BatchResult w =
          join(sim.runBatch(7, 0, List.of(new AccessOp(Access.STORE, 0x1000_3008L, 9))));
      assertThat(w.completed()).as(w.failures().toString()).isEqualTo(1);

      Map<MeshEvent.Kind, MeshEvent> first = new EnumMap<>(MeshEvent.Kind.class);
      List<MeshEvent> seen = new ArrayList<>();
      while (!first
          .keySet()
          .containsAll(
              Set.of(
                  MeshEvent.Kind.FAULT,
                  MeshEvent.Kind.MAP,
                  MeshEvent.Kind.MERGE,
                  MeshEvent.Kind.COW_BREAK))) {
        EventBacklog.Entry e = s.poll();
        if (e == null) {
          assertThat(wake.tryAcquire(30, TimeUnit.SECONDS)).as("events so far: " + seen).isTrue();
          continue;
        }
        seen.add(e.event());
        assertThat(e.droppedBefore()).isZero();
        first.putIfAbsent(e.event().kind(), e.event());
      }
      MeshEvent fault = first.get(MeshEvent.Kind.FAULT);
      assertThat(fault.vmId()).isEqualTo(7);
      assertThat(fault.vcpu()).isZero();
      assertThat(fault.ea()).isEqualTo(0x1000_2000L);
      assertThat(fault.detail()).isEqualTo("NOHPTE load");
      assertThat(fault.hostId()).as("filled from node 2's directory").isZero();
      MeshEvent map = first.get(MeshEvent.Kind.MAP);
      assertThat(map.vmId()).isEqualTo(7);
      assertThat(map.ea()).isEqualTo(0x1000_2000L);
      assertThat(map.gfn()).isEqualTo(2);
      assertThat(map.hostId()).as("filled from node 1's directory").isZero();
      MeshEvent merge = first.get(MeshEvent.Kind.MERGE);
      assertThat(merge.vmId()).isEqualTo(7);
      assertThat(merge.gfn()).isIn(2L, 3L);
      assertThat(merge.hostId()).isZero();
      MeshEvent cow = first.get(MeshEvent.Kind.COW_BREAK);
      assertThat(cow.vmId()).isEqualTo(7);
      assertThat(cow.gfn()).isEqualTo(3);
      assertThat(cow.vcpu()).isZero();
      assertThat(cow.detail()).startsWith("cow ksm pfn ");
      s.close();
    }
  }
}
