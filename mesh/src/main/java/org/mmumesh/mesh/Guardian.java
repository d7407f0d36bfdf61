package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.ksm.KsmFrameScanner;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The root actor of every mesh node (architecture sections 2 and 4). It only wires (style item 9):
 * it registers the entity types with Cluster Sharding, each on the nodes of its cluster role, and
 * spawns the node-local glue that lets the entities address each other.
 *
 * <p><b>Entity types</b> (one region per type on every node; a node without the type's role gets a
 * region proxy):
 *
 * <table>
 *   <caption>entities, ids and roles</caption>
 *   <tr><th>type</th><th>entity id</th><th>role</th><th>one per</th></tr>
 *   <tr><td>{@link PageFrame}</td><td>{@code host-<h>}</td><td>{@value MeshEngine#ROLE_FRAMES}
 *       </td><td>host (one host, {@code host-0}, in this model); ksmd included: its KSM scanner
 *       ({@link KsmFrameScanner}), controls and timer</td></tr>
 *   <tr><td>{@link GuestMmu}</td><td>{@code vm-<v>}</td><td>{@value MeshEngine#ROLE_MMU}</td>
 *       <td>VM</td></tr>
 *   <tr><td>{@link HostMmu}</td><td>{@code vm-<v>}</td><td>{@value MeshEngine#ROLE_MMU}</td>
 *       <td>VM</td></tr>
 *   <tr><td>{@link Vcpu}</td><td>{@code vm-<v>/vcpu-<n>}</td><td>{@value MeshEngine#ROLE_VCPU}
 *       </td><td>vCPU</td></tr>
 * </table>
 *
 * A node with every role (the embedded default) runs every entity; spreading the roles over nodes
 * places the page frames, the MMUs and the vCPUs on different nodes. Passivation is off for every
 * type but the vCPU (their state is guest memory or caches the vCPUs rely on). Every type places
 * its shards with {@link StatefulShardAllocation}: new shards on the least-loaded node of the role,
 * live shards never rebalanced (an entity's state is in memory only, so a moved entity would
 * restart empty).
 *
 * <p><b>Configuration</b> comes from the node's {@link MeshDirectory}: every entity factory reads
 * its host's or VM's entry when the entity starts, so hosts and VMs can be created at run time
 * (registered on every node first by {@link MeshVms}); a static run registers its workload's VMs
 * the same way. The guardian spawns the node's {@link DirectoryActor} (Receptionist-registered).
 *
 * <p><b>Node-local glue</b> ({@link NodeGlue}, created lazily on first use, thread-safe): per host
 * an {@link EntityForwarder} to its {@code PageFrame} (the entity constructors take {@code
 * ActorRef}s, sharding gives {@code EntityRef}s: the forwarder wraps each message in a {@code
 * ShardingEnvelope} for the region); per VM forwarders to its MMUs, a {@link
 * org.mmumesh.hostmmu.actor.TlbieAdapter} (guest tlbie to host flush, given to the {@code GuestMmu}
 * entities of this node) and a {@link org.mmumesh.hostmmu.actor.NotifierAdapter} (MMU notifier to
 * host invalidation; under Q8 a full-flush request the vCPUs serve at their next guest entry). The
 * notifier adapter is subscribed by whoever creates the VM ({@link MeshVms} subscribes the creating
 * node's, as {@code kvm_create_vm} registers the MMU notifier once); its ref crosses nodes inside
 * {@code PageFrame.SubscribeNotifier} (CBOR). The vCPUs send their stores to the page frames
 * directly ({@code ApplyStores}).
 *
 * <p>{@link Start} (sent to the driving node only, in {@link MeshEngine.Pacing#FREE}) spawns one
 * {@link Driver} per vCPU there; in lockstep {@link MeshCluster} sends the batches itself.
 */
final class Guardian {
  /** The host all VMs run on: this model has one host, {@code host-0}. */
  static final int HOST = 0;

  private Guardian() {}

  /** What the guardian accepts (local only). */
  sealed interface Command extends NoSerializationVerificationNeeded {}

  /**
   * Asks for this node's refs to VMs {@code 0 .. vms - 1} (each with {@code vcpusPerVm} vCPUs) on
   * host {@link #HOST}; the VMs must be in this node's directory.
   */
  record GetWiring(int vms, int vcpusPerVm, ActorRef<Wiring> replyTo) implements Command {}

  /** Asks for this node's glue (local only). */
  record GetGlue(ActorRef<NodeGlue> replyTo) implements Command {}

  /**
   * Starts one driver per vCPU on this node; {@code done.get(vm).get(vcpu)} completes when it is
   * done. {@code resendAfter}: how long a driver waits before sending an unanswered batch again.
   */
  record Start(
      WorkloadSpec spec,
      int batchSize,
      int maxOutstanding,
      Duration resendAfter,
      List<List<CompletableFuture<Driver.Outcome>>> done)
      implements Command {}

  /**
   * This node's refs to the mesh: forwarders to the sharded entities and the notifier adapters.
   *
   * @param frames the {@code PageFrame} of {@link #HOST}
   * @param guests per VM, its {@code GuestMmu}
   * @param hosts per VM, its {@code HostMmu}
   * @param vcpus per VM and vCPU, its {@code Vcpu}
   * @param notifiers per VM, this node's notifier adapter (to subscribe once per VM)
   */
  record Wiring(
      ActorRef<PageFrame.Command> frames,
      List<ActorRef<GuestMmu.Command>> guests,
      List<ActorRef<HostMmu.Command>> hosts,
      List<List<ActorRef<Vcpu.Command>>> vcpus,
      List<ActorRef<PageFrame.NotifierEvent>> notifiers)
      implements NoSerializationVerificationNeeded {}

  /** The guardian of one node: registers every entity type, configured by {@code directory}. */
  static Behavior<Command> create(MeshDirectory directory) {
    return Behaviors.setup(ctx -> wire(ctx, directory));
  }

  private static Behavior<Command> wire(ActorContext<Command> ctx, MeshDirectory directory) {
    ActorSystem<Void> system = ctx.getSystem();
    NodeGlue glue = new NodeGlue(system, directory);
    ActorRef<DirectoryActor.Command> directoryActor =
        ctx.spawn(DirectoryActor.create(directory), "directory");
    glue.bindDirectory(directoryActor);
    Placements placed = new Placements(system, directory, directoryActor);

    // PageFrame, per host, role frames.
    // The PageFrame entities carry ksmd: the KSM scanner (KsmFrameScanner), its controls and timer.
    ActorRef<ShardingEnvelope<PageFrame.Command>> frameRegion =
        PageFrame.initSharding(
            system,
            PageFrame.Settings.fromConfig(system.settings().config()),
            MeshEngine.ROLE_FRAMES,
            KsmFrameScanner.factory(),
            new StatefulShardAllocation());

    // HostMmu, per VM, role mmu.
    ActorRef<ShardingEnvelope<HostMmu.Command>> hostRegion =
        HostMmu.initSharding(
            system,
            vm ->
                placed.refuseRestart(
                    "HostMmu", HostMmu.entityId(vm), directory.require(vm).hostMmu()),
            HostMmu.Settings.defaults(),
            MeshEngine.ROLE_MMU,
            new StatefulShardAllocation());

    // GuestMmu, per VM, role mmu; its guest tlbies go to this node's tlbie adapter of the VM.
    ActorRef<ShardingEnvelope<GuestMmu.Command>> guestRegion =
        GuestMmu.initSharding(
            system,
            vm ->
                placed.refuseRestart(
                    "GuestMmu", GuestMmu.entityId(vm), directory.require(vm).guest()),
            vm -> glue.vm(vm).tlbie(),
            MeshEngine.ROLE_MMU,
            new StatefulShardAllocation());

    // Vcpu, per vCPU, role vcpu.
    ActorRef<ShardingEnvelope<Vcpu.Command>> vcpuRegion =
        Vcpu.initSharding(
            system,
            (vm, v) ->
                placed.refuseRestart(
                    "Vcpu", Vcpu.entityId(vm, v), directory.require(vm).vcpuSetup(v)),
            vm -> glue.vm(vm).guest(),
            vm -> glue.vm(vm).host(),
            glue::framesOfVm,
            MeshEngine.ROLE_VCPU,
            new StatefulShardAllocation());
    glue.bind(new NodeGlue.Regions(frameRegion, hostRegion, guestRegion, vcpuRegion));

    return Behaviors.receive(Command.class)
        .onMessage(GetWiring.class, m -> onGetWiring(glue, m))
        .onMessage(GetGlue.class, m -> onGetGlue(glue, m))
        .onMessage(Start.class, m -> onStart(ctx, glue, m))
        .build();
  }

  private static Behavior<Command> onGetGlue(NodeGlue glue, GetGlue m) {
    m.replyTo().tell(glue);
    return Behaviors.same();
  }

  private static Behavior<Command> onGetWiring(NodeGlue glue, GetWiring m) {
    List<ActorRef<GuestMmu.Command>> guests = new ArrayList<>();
    List<ActorRef<HostMmu.Command>> hosts = new ArrayList<>();
    List<List<ActorRef<Vcpu.Command>>> vcpus = new ArrayList<>();
    List<ActorRef<PageFrame.NotifierEvent>> notifiers = new ArrayList<>();
    for (int vm = 0; vm < m.vms(); vm++) {
      NodeGlue.VmGlue g = glue.vm(vm);
      guests.add(g.guest());
      hosts.add(g.host());
      notifiers.add(g.notifier());
      List<ActorRef<Vcpu.Command>> row = new ArrayList<>();
      for (int v = 0; v < m.vcpusPerVm(); v++) {
        row.add(glue.vcpu(vm, v));
      }
      vcpus.add(List.copyOf(row));
    }
    m.replyTo()
        .tell(
            new Wiring(
                glue.frames(HOST),
                List.copyOf(guests),
                List.copyOf(hosts),
                List.copyOf(vcpus),
                List.copyOf(notifiers)));
    return Behaviors.same();
  }

  private static Behavior<Command> onStart(ActorContext<Command> ctx, NodeGlue glue, Start m) {
    WorkloadSpec spec = m.spec();
    for (int vm = 0; vm < spec.vms(); vm++) {
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        ctx.spawn(
            Driver.create(
                vm,
                v,
                glue.vcpu(vm, v),
                spec.sourceFor(vm, v),
                m.batchSize(),
                m.maxOutstanding(),
                m.resendAfter(),
                m.done().get(vm).get(v)),
            "driver-vm-" + vm + "-" + v);
      }
    }
    return Behaviors.same();
  }
}
