package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.mmumesh.common.Quirk;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.guestmmu.GuestMmuKind;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.hostmmu.HostMmu;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.ksm.Ksm;
import org.mmumesh.ksm.KsmFrameScanner;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.Vcpu;
import org.mmumesh.workload.MmuKind;
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
 *       </td><td>host (one host, {@code host-0}, in this model)</td></tr>
 *   <tr><td>{@link Ksm}</td><td>{@code host-<h>}</td><td>{@value MeshEngine#ROLE_FRAMES}</td>
 *       <td>host; drives the KSM scanner ({@link KsmFrameScanner}) inside its host's {@link
 *       PageFrame} entity</td></tr>
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
 * type (their state is guest memory or caches the vCPUs rely on); a rebalance or node loss restarts
 * an entity empty, as each entity's class comment says.
 *
 * <p><b>Node-local glue</b> (children of this guardian, on every node): one {@link EntityForwarder}
 * per entity (the entity constructors take {@code ActorRef}s, sharding gives {@code EntityRef}s:
 * the forwarder wraps each message in a {@code ShardingEnvelope} for the region); per VM a {@link
 * TlbieAdapter} (guest tlbie to host flush, given to the {@code GuestMmu} entities of this node)
 * and a {@link NotifierAdapter} (MMU notifier to host invalidation; under Q8 a full-flush request
 * the vCPUs serve at their next guest entry). The notifier adapter is subscribed by whoever creates
 * the VM ({@link MeshCluster} subscribes the driving node's, as {@code kvm_create_vm} registers the
 * MMU notifier once); its ref crosses nodes inside {@code PageFrame.SubscribeNotifier} (CBOR). The
 * vCPUs send their stores to the page frames directly ({@code ApplyStores}).
 *
 * <p>Every node must be given the same workload and configuration: the entity factories derive each
 * entity's setup from them. {@link Start} (sent to the driving node only, in {@link
 * MeshEngine.Pacing#FREE}) spawns one {@link Driver} per vCPU there; in lockstep {@link
 * MeshCluster} sends the batches itself.
 */
final class Guardian {
  /** The host all VMs run on: this model has one host, {@code host-0}. */
  static final int HOST = 0;

  private Guardian() {}

  /** What the guardian accepts (local only). */
  sealed interface Command extends NoSerializationVerificationNeeded {}

  /** Asks for the wiring of this node. */
  record GetWiring(ActorRef<Wiring> replyTo) implements Command {}

  /**
   * Starts one driver per vCPU on this node; {@code done.get(vm).get(vcpu)} completes when it is
   * done. {@code resendAfter}: how long a driver waits before sending an unanswered batch again.
   */
  record Start(
      int batchSize,
      int maxOutstanding,
      Duration resendAfter,
      List<List<CompletableFuture<Driver.Outcome>>> done)
      implements Command {}

  /**
   * This node's refs to the mesh: forwarders to the sharded entities and the notifier adapters.
   *
   * @param frames the {@code PageFrame} of {@link #HOST}
   * @param ksm the {@code Ksm} of {@link #HOST}
   * @param guests per VM, its {@code GuestMmu}
   * @param hosts per VM, its {@code HostMmu}
   * @param vcpus per VM and vCPU, its {@code Vcpu}
   * @param notifiers per VM, this node's notifier adapter (to subscribe once per VM)
   */
  record Wiring(
      ActorRef<PageFrame.Command> frames,
      ActorRef<Ksm.Command> ksm,
      List<ActorRef<GuestMmu.Command>> guests,
      List<ActorRef<HostMmu.Command>> hosts,
      List<List<ActorRef<Vcpu.Command>>> vcpus,
      List<ActorRef<PageFrame.NotifierEvent>> notifiers)
      implements NoSerializationVerificationNeeded {}

  /** The guest MMU setup of a VM, as {@code SequentialEngine.createVm} builds its guest. */
  static GuestSetup guestSetup(WorkloadSpec spec, EngineConfig cfg, GuestLayout layout) {
    return new GuestSetup(
        spec.mmu() == MmuKind.BOOK3S_32 ? GuestMmuKind.BOOK3S_32 : GuestMmuKind.BOOK3S_64,
        layout.sdr1(),
        layout.memoryPages() << 12,
        cfg.options(),
        spec.vcpusPerVm(),
        spec.linearMapBase(),
        spec.pagesPerVm(),
        cfg.guestPp(),
        cfg.protection());
  }

  /** The host MMU shape of VM {@code vm}: distinct context ids per VM. */
  static HostMmuConfig hostConfig(WorkloadSpec spec, EngineConfig cfg, int vm) {
    int nv = spec.vcpusPerVm();
    HostMmuConfig hc =
        cfg.host32()
            ? HostMmuConfig.host32(nv, cfg.options().has(Quirk.Q5_HOST32_INSERTION))
            : HostMmuConfig.host64(nv);
    return hc.withFirstContextId(1 + vm * 4);
  }

  /** The guardian of one node: registers every entity type and spawns this node's glue. */
  static Behavior<Command> create(WorkloadSpec spec, EngineConfig cfg, Vcpu.SetupOf setupOf) {
    return Behaviors.setup(ctx -> wire(ctx, spec, cfg, setupOf));
  }

  private static Behavior<Command> wire(
      ActorContext<Command> ctx, WorkloadSpec spec, EngineConfig cfg, Vcpu.SetupOf setupOf) {
    ActorSystem<Void> system = ctx.getSystem();
    GuestSetup gs = guestSetup(spec, cfg, GuestLayout.of(spec.mmu(), spec.pagesPerVm()));
    boolean fullFlush = cfg.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH);
    int vms = spec.vms();
    int nv = spec.vcpusPerVm();

    // PageFrame, per host, role frames.
    // The PageFrame entities carry the KSM scanner (KsmFrameScanner) that the Ksm entity drives.
    ActorRef<ShardingEnvelope<PageFrame.Command>> frameRegion =
        PageFrame.initSharding(
            system,
            PageFrame.Settings.fromConfig(system.settings().config()),
            MeshEngine.ROLE_FRAMES,
            KsmFrameScanner.factory());
    ActorRef<PageFrame.Command> frames =
        ctx.spawn(
            EntityForwarder.create(frameRegion, PageFrame.entityId(HOST)),
            "to-page-frame-host-" + HOST);

    // HostMmu, per VM, role mmu.
    ActorRef<ShardingEnvelope<HostMmu.Command>> hostRegion =
        HostMmu.initSharding(
            system,
            vm -> hostConfig(spec, cfg, vm),
            HostMmu.Settings.defaults(),
            MeshEngine.ROLE_MMU);
    List<ActorRef<HostMmu.Command>> hosts = new ArrayList<>(vms);
    List<ActorRef<GuestMmu.HostTlbie>> tlbies = new ArrayList<>(vms);
    List<ActorRef<PageFrame.NotifierEvent>> notifiers = new ArrayList<>(vms);
    for (int vm = 0; vm < vms; vm++) {
      ActorRef<HostMmu.Command> host =
          ctx.spawn(
              EntityForwarder.create(hostRegion, HostMmu.entityId(vm)), "to-host-mmu-vm-" + vm);
      hosts.add(host);
      tlbies.add(ctx.spawn(TlbieAdapter.create(host), "tlbie-vm-" + vm).narrow());
      notifiers.add(
          ctx.spawn(NotifierAdapter.create(host, vm, fullFlush), "notifier-vm-" + vm).narrow());
    }

    // Ksm, per host, role frames: ksmd's controls, driving the PageFrame entity of its host.
    ActorRef<ShardingEnvelope<Ksm.Command>> ksmRegion =
        Ksm.initSharding(
            system,
            Ksm.Settings.fromConfig(system.settings().config()),
            MeshEngine.ROLE_FRAMES,
            frameRegion);
    ActorRef<Ksm.Command> ksm =
        ctx.spawn(EntityForwarder.create(ksmRegion, Ksm.entityId(HOST)), "to-ksm-host-" + HOST);

    // GuestMmu, per VM, role mmu; its guest tlbies go to this node's tlbie adapter of the VM.
    ActorRef<ShardingEnvelope<GuestMmu.Command>> guestRegion =
        GuestMmu.initSharding(
            system, vm -> gs, perVm(tlbies, "tlbie adapter"), MeshEngine.ROLE_MMU);
    List<ActorRef<GuestMmu.Command>> guests = new ArrayList<>(vms);
    for (int vm = 0; vm < vms; vm++) {
      guests.add(
          ctx.spawn(
              EntityForwarder.create(guestRegion, GuestMmu.entityId(vm)), "to-guest-mmu-vm-" + vm));
    }

    // Vcpu, per vCPU, role vcpu.
    ActorRef<ShardingEnvelope<Vcpu.Command>> vcpuRegion =
        Vcpu.initSharding(
            system,
            setupOf,
            perVm(guests, "GuestMmu"),
            perVm(hosts, "HostMmu"),
            perVm(java.util.Collections.nCopies(vms, frames), "PageFrame"),
            MeshEngine.ROLE_VCPU);
    List<List<ActorRef<Vcpu.Command>>> vcpus = new ArrayList<>(vms);
    for (int vm = 0; vm < vms; vm++) {
      List<ActorRef<Vcpu.Command>> row = new ArrayList<>(nv);
      for (int v = 0; v < nv; v++) {
        row.add(
            ctx.spawn(
                EntityForwarder.create(vcpuRegion, Vcpu.entityId(vm, v)),
                "to-vcpu-vm-" + vm + "-" + v));
      }
      vcpus.add(List.copyOf(row));
    }

    Wiring wiring =
        new Wiring(
            frames,
            ksm,
            List.copyOf(guests),
            List.copyOf(hosts),
            List.copyOf(vcpus),
            List.copyOf(notifiers));
    return Behaviors.receive(Command.class)
        .onMessage(GetWiring.class, m -> onGetWiring(wiring, m))
        .onMessage(Start.class, m -> onStart(ctx, spec, wiring, m))
        .build();
  }

  private static Behavior<Command> onGetWiring(Wiring wiring, GetWiring m) {
    m.replyTo().tell(wiring);
    return Behaviors.same();
  }

  private static Behavior<Command> onStart(
      ActorContext<Command> ctx, WorkloadSpec spec, Wiring wiring, Start m) {
    for (int vm = 0; vm < spec.vms(); vm++) {
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        ctx.spawn(
            Driver.create(
                vm,
                v,
                wiring.vcpus().get(vm).get(v),
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

  /**
   * The VM-indexed lookup an entity factory calls; a VM outside the workload is an {@link
   * IllegalArgumentException} naming the allowed range (the entity then rejects every command).
   */
  private static <T> IntFunction<T> perVm(List<T> byVm, String what) {
    List<T> copy = List.copyOf(byVm);
    return vm -> {
      if (vm < 0 || vm >= copy.size()) {
        throw new IllegalArgumentException(
            "vm: " + vm + " has no " + what + "; allowed 0 to " + (copy.size() - 1));
      }
      return copy.get(vm);
    };
  }
}
