package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.guestmmu.VcpuStateChange;

/**
 * The boundary between the {@link Simulation} port's own state changes ({@link
 * Simulation.StateChange}) and the guest MMU's ({@link VcpuStateChange}): converted field for
 * field, so an API layer (the gateway) never sees a core or actor type. Accesses and traces need no
 * conversion: the port and the vCPU share {@code org.mmumesh.common.AccessOp} and {@code
 * AccessTrace}.
 */
final class PortTypes {
  private PortTypes() {}

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
}
