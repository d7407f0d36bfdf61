package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.MeshDirectory.Loss;
import org.mmumesh.mesh.MeshDirectory.Placement;

/** The pure bookkeeping of placements and losses ({@link LostEntities}). */
class LostEntitiesTest {
  private static final String A = "pekko://mmumesh-mesh@127.0.0.1:2551";
  private static final String B = "pekko://mmumesh-mesh@127.0.0.1:2552";

  @Test
  void firstStart_isRecorded_andServes_restartOnItsOwnNodeServes_restartElsewhereIsRefused() {
    LostEntities l = new LostEntities();
    assertThat(l.refusal("GuestMmu", "vm-3", A)).isEmpty();
    assertThat(l.placement("GuestMmu", "vm-3")).contains(new Placement("GuestMmu", "vm-3", A));
    assertThat(l.refusal("GuestMmu", "vm-3", A)).isEmpty();
    assertThat(l.refusal("GuestMmu", "vm-3", B))
        .hasValueSatisfying(
            why -> assertThat(why).contains("GuestMmu vm-3", "its state was on node " + A, B));
    // the refused restart did not take the placement over
    assertThat(l.placement("GuestMmu", "vm-3").orElseThrow().node()).isEqualTo(A);
  }

  @Test
  void lossesOfANode_nameEachVmAndHostWithWhatLivedThere() {
    LostEntities l = new LostEntities();
    l.place(new Placement("GuestMmu", "vm-1", A));
    l.place(new Placement("HostMmu", "vm-1", A));
    for (int v : new int[] {0, 1, 3}) {
      l.place(new Placement("Vcpu", "vm-1/vcpu-" + v, A));
    }
    l.place(new Placement("Vcpu", "vm-2/vcpu-0", A));
    l.place(new Placement("GuestMmu", "vm-2", B));
    l.place(new Placement("PageFrame", "host-0", B));
    assertThat(l.lossesOf(A, Map.of(0, List.of(1, 2))))
        .containsExactly(
            new Loss(MeshDirectory.VM, 1, A, "guest MMU, host MMU, vCPUs 0-1, 3"),
            new Loss(MeshDirectory.VM, 2, A, "vCPU 0"));
    assertThat(l.lossesOf(B, Map.of(0, List.of(1, 2))))
        .containsExactly(
            new Loss(MeshDirectory.HOST, 0, B, "page frames and ksmd"),
            new Loss(MeshDirectory.VM, 1, B, "memory (host 0's page frames)"),
            new Loss(MeshDirectory.VM, 2, B, "guest MMU, memory (host 0's page frames)"));
  }

  @Test
  void why_namesTheVm_theNode_andWhatWasLost_andWatchersHearOnce() {
    LostEntities l = new LostEntities();
    List<String> heard = new ArrayList<>();
    Runnable stop = l.watch(MeshDirectory.VM, 4, heard::add);
    assertThat(l.why(MeshDirectory.VM, 4)).isEmpty();
    Loss loss = new Loss(MeshDirectory.VM, 4, A, "guest MMU, vCPUs 0-1");
    assertThat(l.add(loss)).isTrue();
    assertThat(l.add(loss)).isFalse();
    assertThat(heard).hasSize(1);
    assertThat(heard.get(0))
        .isEqualTo(l.why(MeshDirectory.VM, 4).orElseThrow())
        .contains("vm 4 is lost", "node " + A, "guest MMU, vCPUs 0-1", "delete the vm");
    stop.run();
    l.add(new Loss(MeshDirectory.VM, 4, B, "host MMU"));
    assertThat(heard).hasSize(1);
    assertThat(l.why(MeshDirectory.VM, 4).orElseThrow()).contains(A, B);
    // watching a VM already lost hears at once
    List<String> late = new ArrayList<>();
    l.watch(MeshDirectory.VM, 4, late::add);
    assertThat(late).hasSize(1);
  }

  @Test
  void merging_placementsAndLosses_isOrderIndependent() {
    Placement pa = new Placement("HostMmu", "vm-9", A);
    Placement pb = new Placement("HostMmu", "vm-9", B);
    Loss la = new Loss(MeshDirectory.VM, 9, A, "host MMU");
    Loss lb = new Loss(MeshDirectory.VM, 9, B, "host MMU");
    MeshDirectory one = new MeshDirectory();
    one.merge(new MeshDirectory.Snapshot(null, null, null, null, List.of(pa), List.of(la)));
    one.merge(new MeshDirectory.Snapshot(null, null, null, null, List.of(pb), List.of(lb)));
    MeshDirectory two = new MeshDirectory();
    two.merge(new MeshDirectory.Snapshot(null, null, null, null, List.of(pb), List.of(lb)));
    two.merge(new MeshDirectory.Snapshot(null, null, null, null, List.of(pa), List.of(la)));
    assertThat(one.snapshot()).isEqualTo(two.snapshot());
    assertThat(one.vmLost(9)).isEqualTo(two.vmLost(9));
    // a directory's snapshot carries them, in chunks too
    MeshDirectory three = new MeshDirectory();
    one.snapshot().chunks(1).forEach(three::merge);
    assertThat(three.snapshot()).isEqualTo(one.snapshot());
  }

  @Test
  void ranges_joinConsecutiveVcpus() {
    assertThat(LostEntities.ranges(new TreeSet<>(List.of(0, 1, 2, 5, 7, 8))))
        .isEqualTo("0-2, 5, 7-8");
    assertThat(LostEntities.ranges(new TreeSet<>(List.of(4)))).isEqualTo("4");
  }
}
