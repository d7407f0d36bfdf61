package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.mmumesh.common.Counts;
import org.mmumesh.engine.SimClock;
import org.mmumesh.engine.SimCosts;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The VMs area of {@link MeshSimulation} (the lifecycle part of the gateway's {@code VmService}):
 * creating a VM (admitted through {@link Creations}, then made through {@link MeshVms#create}, the
 * path static runs take), deleting one (its memslots removed, its started vCPUs halted; the host
 * frames it populated stay allocated: the page frames model no process teardown), describing it,
 * its statistics, and its vCPUs' translation state ({@code Vcpu.SetState}, which needs the vCPU
 * idle or paused).
 */
final class VmsArea extends SimulationArea {
  /** The prefix the {@code Vcpu} puts before a {@code GuestMmu} rejection's reason. */
  private static final String GUEST_MMU_REJECTED = "guest MMU rejected: ";

  private final Creations creations;
  private final Memslots slots;
  private final MemoryArea memory;

  VmsArea(Shared s, Creations creations, Memslots slots, MemoryArea memory) {
    super(s);
    this.creations = creations;
    this.slots = slots;
    this.memory = memory;
  }

  private Simulation.VmInfo info(MeshDirectory.VmEntry e) {
    Simulation.VmConfig c =
        new Simulation.VmConfig(
            e.vmId(),
            e.hostId(),
            e.is64(),
            e.memoryPages(),
            e.vcpus(),
            e.options(),
            e.tlbEntries(),
            e.mergeable());
    return new Simulation.VmInfo(c, e.htabOrigin(), e.htabBytes(), slots.of(e.vmId()));
  }

  /** See {@link Simulation#createVm}. */
  CompletionStage<Simulation.VmInfo> createVm(Simulation.VmConfig c) {
    return guarded(
        () -> {
          MeshDirectory.HostEntry h = host(c.hostId());
          MeshDirectory.VmEntry e;
          try {
            e =
                MeshDirectory.ofApi(
                    c.vmId(),
                    h,
                    c.is64(),
                    c.memoryPages(),
                    c.vcpus(),
                    c.options(),
                    c.tlbEntries(),
                    c.mergeable());
          } catch (IllegalArgumentException bad) {
            throw new SimulationException(SimulationException.Kind.BAD_FIELD, bad.getMessage());
          }
          creations.admitVm(h, e);
          return creations
              .admitted(
                  sending -> vms.create(e, sending),
                  () -> vms.removeVm(c.vmId()),
                  () -> creations.vmFailed(c.vmId()),
                  "vm " + c.vmId())
              .whenComplete(
                  (gen, err) -> {
                    if (err == null) {
                      slots.created(c.vmId(), e.memoryPages(), gen);
                      placeHost(c.hostId());
                    }
                  })
              .thenApply(gen -> info(e));
        });
  }

  /**
   * Records where host {@code hostId}'s {@code PageFrame} (ksmd included) runs, once found (its
   * actor takes no part in {@link Placements}, so the facade locates it after a VM creation has
   * started it): a lost node then takes its hosts' losses along ({@link LostEntities#lossesOf}).
   * Fire and forget: a failed locate is tried again at the next create.
   */
  private void placeHost(int hostId) {
    String id = PageFrame.entityId(hostId);
    if (dir.lost().placement("PageFrame", id).isPresent()) {
      return;
    }
    vms.locate("PageFrame", id)
        .thenAccept(
            l -> {
              if (l != null) {
                glue.directoryActor()
                    .tell(
                        new DirectoryActor.Placed(
                            new MeshDirectory.Placement("PageFrame", id, l.nodeAddress())));
              }
            });
  }

  /** See {@link Simulation#deleteVm}. */
  CompletionStage<Void> deleteVm(int vmId) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vmEvenLost(vmId);
          if (dir.vmLost(vmId).isPresent()) {
            // Its state is gone with a node: nothing to unmap or halt (an ask could wait for the
            // lost node); forgetting it frees its id's admission.
            return vms.removeVm(vmId)
                .whenComplete(
                    (x, err) -> {
                      if (err == null) {
                        slots.deleted(vmId);
                        creations.admission().vmDeleted(vmId);
                      }
                    });
          }
          CompletableFuture<?> all = CompletableFuture.completedFuture(null);
          for (int slot : slots.ids(vmId)) {
            all = all.thenCompose(x -> memory.removeSlot(vmId, slot).toCompletableFuture());
          }
          for (int v = 0; v < e.vcpus(); v++) {
            int n = v;
            if (!started(vmId, v)) {
              continue; // never started: nothing to halt, and halting would start it
            }
            all =
                all.thenCompose(
                    x ->
                        vms.<Vcpu.Command, Vcpu.ControlReply>ask(startVcpu(vmId, n), Vcpu.Halt::new)
                            .toCompletableFuture());
          }
          return all.thenCompose(x -> vms.removeVm(vmId))
              .whenComplete(
                  (x, err) -> {
                    if (err == null) {
                      slots.deleted(vmId);
                      creations.admission().vmDeleted(vmId);
                    }
                  });
        });
  }

  /** See {@link Simulation#getVm}. */
  CompletionStage<Simulation.VmInfo> getVm(int vmId) {
    return guarded(() -> CompletableFuture.completedFuture(info(vm(vmId))));
  }

  /** See {@link Simulation#vmStats}. */
  CompletionStage<Simulation.VmStats> vmStats(int vmId) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          List<CompletableFuture<Counts>> reports = new ArrayList<>();
          for (int v = 0; v < e.vcpus(); v++) {
            reports.add(vcpuCounters(vmId, v));
          }
          CompletableFuture<GuestMmu.KernelEvents> kernel =
              vms.<GuestMmu.Command, GuestMmu.KernelEvents>ask(
                      glue.vm(vmId).guest(), GuestMmu.GetKernelEvents::new)
                  .toCompletableFuture();
          return CompletableFuture.allOf(reports.toArray(new CompletableFuture<?>[0]))
              .thenCombine(
                  kernel,
                  (x, k) -> {
                    Counts sum = Counts.zero();
                    for (CompletableFuture<Counts> r : reports) {
                      sum = sum.plus(r.join());
                    }
                    long nanos = SimClock.nanos(SimCosts.defaults(), sum, 0);
                    Map<String, Long> out = new TreeMap<>(sum.toWireMap());
                    out.put("guest_demand_maps", k.demandMaps());
                    out.put("guest_evictions", k.evictions());
                    out.put("guest_slb_loads", k.slbLoads());
                    out.put("guest_prot_upgrades", k.protUpgrades());
                    out.put("guest_misreported", k.misreportedNotFound());
                    return new Simulation.VmStats(e.options(), out, nanos);
                  });
        });
  }

  /** See {@link Simulation#setVcpuState}. */
  CompletionStage<Void> setVcpuState(int vmId, int vcpu, List<Simulation.StateChange> changes) {
    return guarded(
        () -> {
          vcpu(vmId, vcpu);
          if (changes.isEmpty()) {
            return CompletableFuture.completedFuture(null);
          }
          // Through the vCPU (Vcpu.SetState): the GuestMmu applies the changes, the vCPU drops its
          // TLB and cached segment VSIDs and has the HostMmu flush its shadow entries.
          return whileStarting(
                  () ->
                      vms.<Vcpu.Command, Vcpu.StateReply>ask(
                          startVcpu(vmId, vcpu),
                          r ->
                              new Vcpu.SetState(
                                  ids.incrementAndGet(), PortTypes.toGuest(changes), r)),
                  1)
              .thenApply(
                  reply -> {
                    if (reply instanceof Vcpu.Rejected rej) {
                      throw vcpuRejected(rej, GUEST_MMU_REJECTED);
                    }
                    return (Void) null;
                  });
        });
  }
}
