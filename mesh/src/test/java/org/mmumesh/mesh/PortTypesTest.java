package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The conversions between the {@link Simulation} port's own state changes and the guest MMU's
 * ({@link PortTypes}): field for field, every variant. (Accesses and traces are one type on both
 * sides, {@code org.mmumesh.common.AccessOp} and {@code AccessTrace}; the trace's xlate status
 * mapping is {@code AccessRecorderTest}'s.)
 */
class PortTypesTest {

  @Test
  void toGuest_mapsEveryStateChangeToTheGuestMmusOwn_inOrder() {
    List<Simulation.StateChange> changes =
        List.of(
            new Simulation.StateChange.SetSdr1(0x0100_0003L),
            new Simulation.StateChange.Mtsrin(15, 0xFFFF_FFFFL),
            new Simulation.StateChange.Slbmte(0x1234_5678_0000L, 0x0800_0000L | 3),
            new Simulation.StateChange.SetBat(true, 2, 0xFFFE_0003L, 0x12L),
            new Simulation.StateChange.SetMsr(true, false, true));

    assertThat(PortTypes.toGuest(changes))
        .containsExactly(
            new VcpuStateChange.SetSdr1(0x0100_0003L),
            new VcpuStateChange.Mtsrin(15, 0xFFFF_FFFFL),
            new VcpuStateChange.Slbmte(0x1234_5678_0000L, 0x0800_0000L | 3),
            new VcpuStateChange.SetBat(true, 2, 0xFFFE_0003L, 0x12L),
            new VcpuStateChange.SetMsr(true, false, true));
  }

  @Test
  void maxStateChanges_isTheVcpusOwnBound() {
    assertThat(Simulation.MAX_STATE_CHANGES).isEqualTo(Vcpu.MAX_STATE_CHANGES);
  }
}
