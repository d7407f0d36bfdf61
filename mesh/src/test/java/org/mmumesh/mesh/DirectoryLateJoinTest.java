package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/**
 * A node that joins the cluster after hosts and VMs were created gets them in its {@link
 * MeshDirectory} (its {@link DirectoryActor} and the others' exchange snapshots when they see each
 * other), without resurrecting a VM deleted before it joined, nor by a stale snapshot later. The
 * first two nodes are a {@link MeshCluster}; the third is started here as {@code MeshCluster}
 * starts its nodes (same configuration, the node's own directory, a {@code Join} to node 0), with
 * no roles (as a gateway-only node would be).
 */
class DirectoryLateJoinTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<Set<String>> ROLES =
      List.of(Set.of(MeshEngine.ROLE_FRAMES), Set.of(MeshEngine.ROLE_MMU, MeshEngine.ROLE_VCPU));

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  private static Simulation.VmConfig vmConfig(int vm) {
    return new Simulation.VmConfig(
        vm, 0, true, 256, 1, MmuOptions.defaults(Policy.FIXED), 64, false);
  }

  /** A node with no roles and its own directory, joining {@code c}'s node 0. */
  private static ActorSystem<Guardian.Command> lateNode(MeshCluster c, MeshDirectory dir) {
    ActorSystem<Guardian.Command> node =
        ActorSystem.create(
            Guardian.create(dir),
            MeshEngine.SYSTEM_NAME,
            MeshEngine.config(
                ConfigFactory.empty()
                    .withValue("mmumesh.mesh.port", ConfigValueFactory.fromAnyRef(0))
                    .withValue("mmumesh.mesh.roles", ConfigValueFactory.fromIterable(List.of()))
                    .withValue(
                        "pekko.cluster.min-nr-of-members", ConfigValueFactory.fromAnyRef(1))));
    Cluster.get(node).manager().tell(Join.create(c.address(0)));
    return node;
  }

  private static void stop(ActorSystem<?> node) throws Exception {
    node.terminate();
    node.getWhenTerminated().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Waits until {@code node} is Up in its own view and in the view of every node of {@code c}: the
   * writer counts only the members it sees Up (MeshVms), so a node Up only in its own view may be
   * passed over by a create and get it a moment later through its peers.
   */
  private static void awaitUp(MeshCluster c, ActorSystem<?> node, TestProbe<?> probe) {
    probe.awaitAssert(
        WAIT,
        () -> {
          assertThat(Cluster.get(node).selfMember().status()).isEqualTo(MemberStatus.up());
          for (int i = 0; i < c.size(); i++) {
            assertThat(Cluster.get(c.system(i)).state().getMembers())
                .anySatisfy(
                    m -> {
                      assertThat(m.address()).isEqualTo(Cluster.get(node).selfMember().address());
                      assertThat(m.status()).isEqualTo(MemberStatus.up());
                    });
          }
          return null;
        });
  }

  @Test
  void nodeJoiningAfterHostAndVmWereCreated_getsThemInItsDirectory() throws Exception {
    try (MeshCluster c = MeshCluster.startSimulation(ROLES)) {
      MeshSimulation sim = c.simulation(0);
      join(sim.createHost(0, false, 4096));
      join(sim.createVm(vmConfig(7)));
      MeshDirectory late = new MeshDirectory();
      ActorSystem<Guardian.Command> node = lateNode(c, late);
      try {
        TestProbe<Object> probe = TestProbe.create(node);
        awaitUp(c, node, probe);
        probe.awaitAssert(
            WAIT,
            () -> {
              assertThat(late.host(0)).isEqualTo(c.glue(0).directory().host(0));
              assertThat(late.vm(7)).isPresent().isEqualTo(c.glue(0).directory().vm(7));
              return null;
            });
        // a VM created now reaches every node through the writer, the late one included
        join(sim.createVm(vmConfig(8)));
        assertThat(late.vm(8)).isPresent();
        assertThat(late.snapshot()).isEqualTo(c.glue(1).directory().snapshot());
      } finally {
        stop(node);
      }
    }
  }

  @Test
  void vmDeletedBeforeTheJoin_isNotResurrected_neitherByTheJoinNorByAStaleSnapshot()
      throws Exception {
    try (MeshCluster c = MeshCluster.startSimulation(ROLES)) {
      MeshSimulation sim = c.simulation(0);
      join(sim.createHost(0, false, 4096));
      join(sim.createVm(vmConfig(7)));
      join(sim.createVm(vmConfig(8)));
      MeshDirectory.Snapshot stale = c.glue(1).directory().snapshot();
      assertThat(stale.vms()).hasSize(2);
      join(sim.deleteVm(7));
      MeshDirectory late = new MeshDirectory();
      ActorSystem<Guardian.Command> node = lateNode(c, late);
      try {
        TestProbe<Object> probe = TestProbe.create(node);
        awaitUp(c, node, probe);
        probe.awaitAssert(
            WAIT,
            () -> {
              assertThat(late.vm(8)).isPresent();
              assertThat(late.vmDeleted(7)).isTrue();
              return null;
            });
        assertThat(late.vm(7)).isEmpty();

        // the stale snapshot (VM 7 still in it) sent to every node's directory actor, each
        // followed by a registration whose Done says the snapshot was processed before it
        TestProbe<Receptionist.Listing> listing = TestProbe.create(node);
        probe.awaitAssert(
            WAIT,
            () -> {
              node.receptionist().tell(Receptionist.find(DirectoryActor.KEY, listing.getRef()));
              assertThat(listing.receiveMessage().getServiceInstances(DirectoryActor.KEY))
                  .hasSize(3);
              return null;
            });
        node.receptionist().tell(Receptionist.find(DirectoryActor.KEY, listing.getRef()));
        TestProbe<DirectoryActor.Done> done = TestProbe.create(node);
        long id = 100;
        for (ActorRef<DirectoryActor.Command> d :
            listing.receiveMessage().getServiceInstances(DirectoryActor.KEY)) {
          d.tell(new DirectoryActor.Sync(stale));
          d.tell(new DirectoryActor.PutHost(++id, stale.hosts().get(0), done.getRef()));
          done.expectMessage(WAIT, new DirectoryActor.Done(id));
        }
        for (MeshDirectory d : List.of(late, c.glue(0).directory(), c.glue(1).directory())) {
          assertThat(d.vm(7)).isEmpty();
          assertThat(d.vm(8)).isPresent();
        }
        // and the id stays taken
        assertThat(sim.createVm(vmConfig(7)).toCompletableFuture())
            .failsWithin(WAIT)
            .withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .withMessageContaining("already exists");
      } finally {
        stop(node);
      }
    }
  }
}
