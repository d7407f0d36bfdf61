package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.common.Quirk;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.guestmmu.GuestMmuKind;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.hostmmu.HostMmu;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.Vcpu;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The mesh's root actor on one node (architecture sections 2 and 4). It only wires: one {@link
 * PageFrame} for the (single) host; per VM a {@link GuestMmu}, a {@link HostMmu} and its vCPUs
 * ({@link Vcpu}); and the adapters between their protocols ({@link TlbieAdapter}: guest tlbie to
 * host flush; {@link NotifierAdapter}: MMU notifier to host invalidation, Q8 = full flush; the
 * vCPUs send their stores to the page frames directly as {@code ApplyStores}). The actors are plain
 * children, not Cluster Sharding entities: this step runs on one node. The VMs' page-frame state
 * (CreateVm, memslot, boot image) is set up by {@link MeshEngine} through the {@link Wiring}; the
 * notifier subscriptions are made here. {@link Start} spawns one {@link Driver} per vCPU. No KSM
 * runs in the mesh yet.
 */
final class Guardian {
  private Guardian() {}

  /** What the guardian accepts (local only). */
  sealed interface Command extends NoSerializationVerificationNeeded {}

  /** Asks for the wiring. */
  record GetWiring(ActorRef<Wiring> replyTo) implements Command {}

  /** Starts one driver per vCPU; {@code done.get(vm).get(vcpu)} completes when it is done. */
  record Start(
      int batchSize, int maxOutstanding, List<List<CompletableFuture<Driver.Outcome>>> done)
      implements Command {}

  /** The actors of the mesh. */
  record Wiring(
      ActorRef<PageFrame.Command> frames,
      List<ActorRef<GuestMmu.Command>> guests,
      List<ActorRef<HostMmu.Command>> hosts,
      List<List<ActorRef<Vcpu.Command>>> vcpus)
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

  static Behavior<Command> create(WorkloadSpec spec, EngineConfig cfg, VcpuSetupOf setupOf) {
    return Behaviors.setup(ctx -> wire(ctx, spec, cfg, setupOf));
  }

  /** The setup of each vCPU. */
  @FunctionalInterface
  interface VcpuSetupOf {
    VcpuSetup apply(int vm, int vcpu);
  }

  private static Behavior<Command> wire(
      ActorContext<Command> ctx, WorkloadSpec spec, EngineConfig cfg, VcpuSetupOf setupOf) {
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    GuestSetup gs = guestSetup(spec, cfg, layout);
    boolean fullFlush = cfg.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH);
    int nv = spec.vcpusPerVm();
    ActorRef<PageFrame.Command> frames = ctx.spawn(PageFrame.create(), "page-frame-host-0");
    List<ActorRef<GuestMmu.Command>> guests = new ArrayList<>();
    List<ActorRef<HostMmu.Command>> hosts = new ArrayList<>();
    List<List<ActorRef<Vcpu.Command>>> vcpus = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      HostMmuConfig hc =
          cfg.host32()
              ? HostMmuConfig.host32(nv, cfg.options().has(Quirk.Q5_HOST32_INSERTION))
              : HostMmuConfig.host64(nv);
      ActorRef<HostMmu.Command> host =
          ctx.spawn(HostMmu.create(hc.withFirstContextId(1 + vm * 4)), "host-mmu-vm-" + vm);
      ActorRef<GuestMmu.HostTlbie> tlbie =
          ctx.spawn(TlbieAdapter.create(host), "tlbie-vm-" + vm).narrow();
      ActorRef<GuestMmu.Command> guest =
          ctx.spawn(GuestMmu.create(gs, tlbie), "guest-mmu-vm-" + vm);
      ActorRef<PageFrame.NotifierEvent> notifier =
          ctx.spawn(NotifierAdapter.create(host, vm, fullFlush), "notifier-vm-" + vm).narrow();
      frames.tell(new PageFrame.SubscribeNotifier(vm, notifier));
      List<ActorRef<Vcpu.Command>> vs = new ArrayList<>();
      for (int v = 0; v < nv; v++) {
        vs.add(
            ctx.spawn(
                Vcpu.create(setupOf.apply(vm, v), guest, host, frames), "vcpu-vm-" + vm + "-" + v));
      }
      guests.add(guest);
      hosts.add(host);
      vcpus.add(List.copyOf(vs));
    }
    Wiring wiring = new Wiring(frames, List.copyOf(guests), List.copyOf(hosts), List.copyOf(vcpus));
    return Behaviors.receive(Command.class)
        .onMessage(
            GetWiring.class,
            m -> {
              m.replyTo().tell(wiring);
              return Behaviors.same();
            })
        .onMessage(
            Start.class,
            m -> {
              for (int vm = 0; vm < spec.vms(); vm++) {
                for (int v = 0; v < nv; v++) {
                  ctx.spawn(
                      Driver.create(
                          vm,
                          v,
                          wiring.vcpus().get(vm).get(v),
                          spec.sourceFor(vm, v),
                          m.batchSize(),
                          m.maxOutstanding(),
                          m.done().get(vm).get(v)),
                      "driver-vm-" + vm + "-" + v);
                }
              }
              return Behaviors.same();
            })
        .build();
  }
}
