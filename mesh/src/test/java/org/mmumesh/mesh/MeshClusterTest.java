package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The mesh as a cluster: the embedded single node holds every role and every entity; three actor
 * systems on free loopback ports in this JVM, one role each, place the page frames, the MMUs and
 * the vCPUs on different nodes (so every message between them crosses Artery through the CBOR
 * serializer) and end the same seeded workload in the same state as the single node.
 */
class MeshClusterTest {
  private static final String WORKLOAD =
      "uniform:vms=2,vcpus=1,pages=64,read=0.7,accesses=3000,mmu=64,seed=41";

  private static EngineConfig config() {
    // KSM on and fast (lockstep), so both clusters also merge and break merges the same way.
    return EngineConfig.defaults(MmuOptions.defaults(Policy.FIXED)).withKsm(100, 1, 1);
  }

  @Test
  void threeNodes_endInTheSameStateAsOneNode_withFramesMmusAndVcpusOnDifferentNodes() {
    WorkloadSpec spec = WorkloadParser.parse(WORKLOAD);
    long accesses = new SequentialEngine(spec, config()).expectedAccesses();
    Set<String> vms = Set.of("vm-0", "vm-1");
    Set<String> vcpus = Set.of(Vcpu.entityId(0, 0), Vcpu.entityId(1, 0));

    MeshResult one;
    try (MeshCluster c = MeshCluster.embedded(WorkloadParser.parse(WORKLOAD), config())) {
      assertThat(c.size()).isEqualTo(1);
      assertThat(c.roles(0)).isEqualTo(MeshEngine.ALL_ROLES);
      assertThat(c.address(0).getHost()).contains("127.0.0.1");
      assertThat(c.address(0).getPort()).hasValueSatisfying(p -> assertThat(p).isPositive());
      one = c.run();
      assertThat(c.entityIds(0, PageFrame.ENTITY_KEY)).containsExactly("host-0");
      assertThat(c.entityIds(0, GuestMmu.ENTITY_KEY)).isEqualTo(vms);
      assertThat(c.entityIds(0, HostMmu.ENTITY_KEY)).isEqualTo(vms);
      assertThat(c.entityIds(0, Vcpu.ENTITY_KEY)).isEqualTo(vcpus);
    }

    MeshResult three;
    List<Set<String>> roles =
        List.of(
            Set.of(MeshEngine.ROLE_FRAMES),
            Set.of(MeshEngine.ROLE_MMU),
            Set.of(MeshEngine.ROLE_VCPU));
    try (MeshCluster c = MeshCluster.start(WorkloadParser.parse(WORKLOAD), config(), roles)) {
      assertThat(c.size()).isEqualTo(3);
      Set<Address> addresses = new HashSet<>();
      for (int n = 0; n < 3; n++) {
        assertThat(c.roles(n)).as("node %d roles", n).isEqualTo(roles.get(n));
        addresses.add(c.address(n));
      }
      assertThat(addresses).as("three distinct nodes").hasSize(3);
      three = c.run();
      // ksmd lives in the host's PageFrame entity, on the frames node
      assertThat(c.entityIds(0, PageFrame.ENTITY_KEY)).containsExactly("host-0");
      assertThat(c.entityIds(1, GuestMmu.ENTITY_KEY)).isEqualTo(vms);
      assertThat(c.entityIds(1, HostMmu.ENTITY_KEY)).isEqualTo(vms);
      assertThat(c.entityIds(2, Vcpu.ENTITY_KEY)).isEqualTo(vcpus);
      for (int n : new int[] {1, 2}) {
        assertThat(c.entityIds(n, PageFrame.ENTITY_KEY)).as("frames on node %d", n).isEmpty();
      }
      for (int n : new int[] {0, 2}) {
        assertThat(c.entityIds(n, GuestMmu.ENTITY_KEY)).as("guest MMUs on node %d", n).isEmpty();
        assertThat(c.entityIds(n, HostMmu.ENTITY_KEY)).as("host MMUs on node %d", n).isEmpty();
      }
      for (int n : new int[] {0, 1}) {
        assertThat(c.entityIds(n, Vcpu.ENTITY_KEY)).as("vCPUs on node %d", n).isEmpty();
      }
    }

    for (MeshResult r : List.of(one, three)) {
      assertThat(r.failures()).isEmpty();
      assertThat(r.completed() + r.failed()).as("each access counted once").isEqualTo(accesses);
      assertThat(r.failed()).isZero();
    }
    assertThat(three.completed()).isEqualTo(one.completed());
    assertThat(three.counters()).isEqualTo(one.counters());
    assertThat(three.ksm().get("full_scans")).as("KSM ran").isGreaterThan(1);
    // coalesced_ticks counts wall-clock timer ticks that found a batch outstanding: timing, not
    // state, so it differs from run to run; every other KSM counter must be equal
    assertThat(three.ksm())
        .hasSameSizeAs(one.ksm())
        .containsAllEntriesOf(withoutTimerCounters(one.ksm()));
    assertThat(three.runResult().samples()).isEqualTo(one.runResult().samples());
    assertThat(three.runResult().host()).isEqualTo(one.runResult().host());
    assertThat(three.perVm()).isEqualTo(one.perVm());
    for (int vm = 0; vm < spec.vms(); vm++) {
      assertThat(three.frames().get(vm))
          .as("vm %d frames", vm)
          .containsExactly(one.frames().get(vm));
      assertThat(three.htabAddrs().get(vm))
          .as("vm %d guest HTAB addresses", vm)
          .isNotEmpty()
          .containsExactly(one.htabAddrs().get(vm));
      assertThat(three.htabWords().get(vm))
          .as("vm %d guest HTAB words", vm)
          .containsExactly(one.htabWords().get(vm));
      assertThat(three.shadows().get(vm).withoutPfns())
          .as("vm %d shadow cache", vm)
          .isEqualTo(one.shadows().get(vm).withoutPfns());
    }
  }

  @Test
  void start_rejectsNodeRolesThatLeaveARoleOnNoNode() {
    WorkloadSpec spec = WorkloadParser.parse(WORKLOAD);
    List<Set<String>> roles = List.of(Set.of(MeshEngine.ROLE_FRAMES), Set.of(MeshEngine.ROLE_MMU));
    assertThatThrownBy(() -> MeshCluster.start(spec, config(), roles))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nodeRoles")
        .hasMessageContaining("leaves a role on no node");
  }

  @Test
  void start_rejectsAnUnknownRole() {
    WorkloadSpec spec = WorkloadParser.parse(WORKLOAD);
    List<Set<String>> roles = List.of(Set.of("frames", "mmu", "vcpu", "gpu"));
    assertThatThrownBy(() -> MeshCluster.start(spec, config(), roles))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown role 'gpu'");
  }

  private static Map<String, Long> withoutTimerCounters(Map<String, Long> ksm) {
    Map<String, Long> m = new TreeMap<>(ksm);
    m.remove("coalesced_ticks");
    return m;
  }
}
