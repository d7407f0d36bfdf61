package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.typed.Cluster;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The cluster area of {@link MeshSimulation} (the gateway's {@code ClusterService}): the invariant
 * check of every host and VM ({@link MeshInvariants}, the one a static run uses too), the cluster's
 * members, and where an entity lives (asked of every node's directory after a message to the entity
 * made sure it runs).
 */
final class ClusterArea extends SimulationArea {
  private final MeshInvariants invariants;
  private final KsmArea ksm;

  ClusterArea(Shared s, KsmArea ksm) {
    super(s);
    this.invariants = new MeshInvariants(glue, vms);
    this.ksm = ksm;
  }

  /** See {@link Simulation#checkInvariants}. */
  CompletionStage<Simulation.InvariantReport> checkInvariants() {
    return guarded(invariants::check);
  }

  /** See {@link Simulation#members}. */
  CompletionStage<Simulation.Members> members() {
    Cluster c = Cluster.get(system);
    List<Simulation.Member> out = new ArrayList<>();
    for (org.apache.pekko.cluster.Member m : c.state().getMembers()) {
      Set<String> roles = new TreeSet<>(m.getRoles());
      roles.removeIf(r -> r.startsWith("dc-"));
      out.add(new Simulation.Member(m.address().toString(), roles, m.status().toString()));
    }
    return CompletableFuture.completedFuture(
        new Simulation.Members(List.copyOf(out), c.selfMember().address().toString()));
  }

  /** See {@link Simulation#locate}. */
  CompletionStage<Simulation.Location> locate(String type, String id) {
    return guarded(
        () -> {
          CompletionStage<?> poke;
          try {
            switch (type) {
              case "PageFrame" -> {
                int h = PageFrame.hostOf(id);
                host(h);
                poke =
                    vms.<PageFrame.Command, PageFrame.StatsReply>ask(
                        glue.frames(h), PageFrame.GetStats::new);
              }
              case "Ksm" -> {
                int h = PageFrame.hostOf(id); // ksmd: in the host's PageFrame
                host(h);
                poke = ksm.ksmCounters(h);
              }
              case "GuestMmu" -> {
                int v = GuestMmu.vmOf(id);
                vm(v);
                poke =
                    vms.<GuestMmu.Command, GuestMmu.KernelEvents>ask(
                        glue.vm(v).guest(), GuestMmu.GetKernelEvents::new);
              }
              case "HostMmu" -> {
                int v = HostMmu.vmOf(id);
                vm(v);
                poke =
                    vms.<HostMmu.Command, HostMmu.StatsReply>ask(
                        glue.vm(v).host(), HostMmu.GetStats::new);
              }
              case "Vcpu" -> {
                int[] vv = Vcpu.vmAndVcpuOf(id);
                vcpu(vv[0], vv[1]);
                poke =
                    vms.<Vcpu.Command, Vcpu.StatusReport>ask(
                        startVcpu(vv[0], vv[1]), Vcpu.GetCounters::new);
              }
              default ->
                  throw SimulationException.badField(
                      "entity_type",
                      "'"
                          + type
                          + "' is not allowed; use PageFrame, Ksm, GuestMmu, HostMmu or Vcpu");
            }
          } catch (IllegalArgumentException bad) {
            throw SimulationException.badField("entity_id", bad.getMessage());
          }
          return poke.thenCompose(x -> vms.locate(type, id))
              .thenApply(
                  l -> {
                    if (l == null) {
                      throw new SimulationException(
                          SimulationException.Kind.UNAVAILABLE,
                          type + " " + id + ": no node reports it running yet; try again");
                    }
                    return new Simulation.Location(l.nodeAddress(), l.shardId());
                  });
        });
  }
}
