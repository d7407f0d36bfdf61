package org.mmumesh.mesh;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.guestmmu.actor.GuestMmu;

/**
 * The guest-HTAB area of {@link MeshSimulation} (the HPTE and R/C part of the gateway's {@code
 * VmService}): {@code H_ENTER} and {@code H_REMOVE} through a vCPU's segments, and reading and
 * clearing a guest HPTE's R and C bits, each one ask to the VM's {@code GuestMmu}. What only the
 * guest MMU can check (an SLB entry on a 32-bit guest, a missing segment) comes back as its {@code
 * Rejected}, which changed nothing, answered BAD_FIELD (NOT_FOUND for R/C) with its reason.
 */
final class GuestHtabArea extends SimulationArea {

  GuestHtabArea(Shared s) {
    super(s);
  }

  /** See {@link Simulation#insertHpte}. */
  CompletionStage<Long> insertHpte(int vmId, int vcpu, long ea, long gfn, int pp) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vcpu(vmId, vcpu);
          ea(e, "effective_addr", ea);
          if (gfn >= e.memoryPages()) {
            throw SimulationException.badField(
                "guest_frame",
                gfn + " is beyond vm " + vmId + "'s memory; allowed 0 .. " + (e.memoryPages() - 1));
          }
          return rejectedAs(
                  vms.call(
                      glue.vm(vmId).guest(),
                      (Long id, ActorRef<GuestMmu.EnterReply> r) ->
                          new GuestMmu.EnterHpte(id, vcpu, ea, gfn, pp, r),
                      GuestMmu.HpteEntered.class),
                  SimulationException.Kind.BAD_FIELD)
              .thenApply(
                  h -> {
                    if (h.pteAddr() < 0) {
                      throw SimulationException.wrongState(
                          "vm "
                              + vmId
                              + ": both PTEGs of 0x"
                              + Long.toHexString(ea)
                              + " are full (no eviction for a client)");
                    }
                    return h.pteAddr();
                  });
        });
  }

  /** See {@link Simulation#removeHpte}. */
  CompletionStage<Void> removeHpte(int vmId, int vcpu, long ea) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", ea);
          return rejectedAs(
                  vms.call(
                      glue.vm(vmId).guest(),
                      (Long id, ActorRef<GuestMmu.RemoveReply> r) ->
                          new GuestMmu.RemoveHpte(id, vcpu, ea, r),
                      GuestMmu.HpteRemoved.class),
                  SimulationException.Kind.BAD_FIELD)
              .thenApply(
                  h -> {
                    if (!h.removed()) {
                      throw SimulationException.notFound(
                          "a guest HPTE translating 0x"
                              + Long.toHexString(ea)
                              + " for vm "
                              + vmId
                              + " vcpu "
                              + vcpu);
                    }
                    return (Void) null;
                  });
        });
  }

  /** See {@link Simulation#readRc}. */
  CompletionStage<AccessTrace.Rc> readRc(int vmId, int vcpu, long ea) {
    return rc(
        vmId,
        vcpu,
        ea,
        (Long id, ActorRef<GuestMmu.RcReply> r) -> new GuestMmu.ReadRc(id, vcpu, ea, r));
  }

  /** See {@link Simulation#clearRc}. */
  CompletionStage<AccessTrace.Rc> clearRc(
      int vmId, int vcpu, long ea, boolean clearR, boolean clearC) {
    return rc(
        vmId,
        vcpu,
        ea,
        (Long id, ActorRef<GuestMmu.RcReply> r) ->
            new GuestMmu.ClearRc(id, vcpu, ea, clearR, clearC, r));
  }

  /** An R/C command to the VM's guest MMU; its rejection (no HPTE) is NOT_FOUND. */
  private CompletionStage<AccessTrace.Rc> rc(
      int vmId,
      int vcpu,
      long ea,
      java.util.function.BiFunction<Long, ActorRef<GuestMmu.RcReply>, GuestMmu.Command> command) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", ea);
          return rejectedAs(
                  vms.call(glue.vm(vmId).guest(), command, GuestMmu.RcOf.class),
                  SimulationException.Kind.NOT_FOUND)
              .thenApply(rc -> new AccessTrace.Rc(rc.r(), rc.c()));
        });
  }
}
