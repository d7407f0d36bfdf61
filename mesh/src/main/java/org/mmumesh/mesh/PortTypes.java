package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.vcpu.AccessTrace;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The boundary between the {@link Simulation} port's own types and the actors' messages: the port
 * speaks {@link Simulation.AccessOp}, {@link Simulation.StateChange} and {@link
 * Simulation.AccessTrace}, the {@code Vcpu} and {@code GuestMmu} their own records; this class
 * converts field for field (every enum by a switch over its constants, so a new constant of the
 * actors' fails to compile here). Only the mesh's side of the port uses it, so an API layer (the
 * gateway) never sees an actor type.
 */
final class PortTypes {
  private PortTypes() {}

  /** A port access as the {@code Vcpu} runs it. */
  static Vcpu.AccessOp toVcpu(Simulation.AccessOp op) {
    return new Vcpu.AccessOp(op.kind(), op.ea(), op.value());
  }

  /** A batch of port accesses as the {@code Vcpu} runs it (an immutable list, in order). */
  static List<Vcpu.AccessOp> toVcpu(List<Simulation.AccessOp> ops) {
    Vcpu.AccessOp[] out = new Vcpu.AccessOp[ops.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = toVcpu(ops.get(i));
    }
    return List.of(out);
  }

  /** A port state change as the guest MMU applies it. */
  static VcpuStateChange toGuest(Simulation.StateChange c) {
    if (c instanceof Simulation.StateChange.SetSdr1 s) {
      return new VcpuStateChange.SetSdr1(s.sdr1());
    } else if (c instanceof Simulation.StateChange.Mtsrin s) {
      return new VcpuStateChange.Mtsrin(s.index(), s.value());
    } else if (c instanceof Simulation.StateChange.Slbmte s) {
      return new VcpuStateChange.Slbmte(s.rs(), s.rb());
    } else if (c instanceof Simulation.StateChange.SetBat b) {
      return new VcpuStateChange.SetBat(b.instruction(), b.index(), b.upper(), b.lower());
    } else if (c instanceof Simulation.StateChange.SetMsr m) {
      return new VcpuStateChange.SetMsr(m.pr(), m.ir(), m.dr());
    }
    throw new IllegalArgumentException("changes: null or unknown change " + c);
  }

  /** Port state changes as the guest MMU applies them, in order. */
  static List<VcpuStateChange> toGuest(List<Simulation.StateChange> changes) {
    List<VcpuStateChange> out = new ArrayList<>(changes.size());
    for (Simulation.StateChange c : changes) {
      out.add(toGuest(c));
    }
    return List.copyOf(out);
  }

  /** The {@code Vcpu}'s trace of one access in the port's terms. */
  static Simulation.AccessTrace fromVcpu(AccessTrace t) {
    List<Simulation.AccessTrace.FaultTrace> faults = new ArrayList<>(t.faults().size());
    for (AccessTrace.FaultTrace f : t.faults()) {
      faults.add(fault(f));
    }
    return new Simulation.AccessTrace(
        t.tlbHit(),
        t.hostHpteHit(),
        faults,
        t.completed(),
        t.failure(),
        t.guestRealAddr(),
        t.hostPfn(),
        t.loadedValue(),
        rc(t.rcBefore()),
        rc(t.rcAfter()));
  }

  private static Simulation.AccessTrace.FaultTrace fault(AccessTrace.FaultTrace f) {
    AccessTrace.XlateTrace x = f.xlate();
    AccessTrace.GfnToPfnTrace g = f.gfnToPfn();
    AccessTrace.MapTrace m = f.map();
    AccessTrace.ReflectTrace r = f.reflected();
    return new Simulation.AccessTrace.FaultTrace(
        kind(f.kind()),
        x == null
            ? null
            : new Simulation.AccessTrace.XlateTrace(
                status(x.status()),
                x.guestRealAddr(),
                x.vpage(),
                x.mayRead(),
                x.mayWrite(),
                x.mayExecute(),
                x.pageSizeBytes()),
        g == null
            ? null
            : new Simulation.AccessTrace.GfnToPfnTrace(
                g.guestFrame(), g.hostPfn(), g.writable(), g.mmio(), g.cow(), g.notifierSeq()),
        f.unmappedVpage(),
        m == null
            ? null
            : new Simulation.AccessTrace.MapTrace(m.hostPfn(), m.writable(), m.refusedRetry()),
        r == null
            ? null
            : new Simulation.AccessTrace.ReflectTrace(
                r.vector(), r.dar(), r.dsisr(), r.srr1Bits(), r.kind()),
        f.mmioAddr());
  }

  static Simulation.AccessTrace.FaultKind kind(AccessTrace.FaultKind k) {
    return switch (k) {
      case NOHPTE -> Simulation.AccessTrace.FaultKind.NOHPTE;
      case PROTFAULT -> Simulation.AccessTrace.FaultKind.PROTFAULT;
      case NOEXEC -> Simulation.AccessTrace.FaultKind.NOEXEC;
    };
  }

  static Simulation.AccessTrace.XlateStatus status(XlateStatus s) {
    return switch (s) {
      case OK -> Simulation.AccessTrace.XlateStatus.OK;
      case ENOENT -> Simulation.AccessTrace.XlateStatus.ENOENT;
      case EPERM -> Simulation.AccessTrace.XlateStatus.EPERM;
      case EINVAL -> Simulation.AccessTrace.XlateStatus.EINVAL;
    };
  }

  private static Simulation.Rc rc(AccessTrace.Rc rc) {
    return rc == null ? null : new Simulation.Rc(rc.referenced(), rc.changed());
  }
}
