package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.vcpu.AccessTrace;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The conversions between the {@link Simulation} port's own types and the actors' messages ({@link
 * PortTypes}): field for field, every variant, every enum constant to a distinct one.
 */
class PortTypesTest {

  @Test
  void toVcpu_keepsKindAddressAndValueOfEveryAccess_inOrder() {
    List<Simulation.AccessOp> ops =
        List.of(
            new Simulation.AccessOp(Access.STORE, 0x1000_0008L, 42),
            new Simulation.AccessOp(Access.LOAD, 0xFFFF_FFFF_0000_0000L, 0),
            new Simulation.AccessOp(Access.IFETCH, 0x30, 7));

    assertThat(PortTypes.toVcpu(ops))
        .containsExactly(
            new Vcpu.AccessOp(Access.STORE, 0x1000_0008L, 42),
            new Vcpu.AccessOp(Access.LOAD, 0xFFFF_FFFF_0000_0000L, 0),
            new Vcpu.AccessOp(Access.IFETCH, 0x30, 7));
    assertThat(PortTypes.toVcpu(ops.get(0)))
        .isEqualTo(new Vcpu.AccessOp(Access.STORE, 0x1000_0008L, 42));
  }

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
  void fromVcpu_copiesEveryFieldOfATraceWithEveryStep() {
    AccessTrace.FaultTrace nohpte =
        new AccessTrace.FaultTrace(
            AccessTrace.FaultKind.NOHPTE,
            new AccessTrace.XlateTrace(XlateStatus.OK, 0x5000, 0x77, true, false, true, 4096),
            new AccessTrace.GfnToPfnTrace(5, 9, false, false, true, 11),
            0x66L,
            new AccessTrace.MapTrace(9, false, true),
            null,
            null);
    AccessTrace.FaultTrace prot =
        new AccessTrace.FaultTrace(
            AccessTrace.FaultKind.PROTFAULT,
            null,
            null,
            null,
            null,
            new AccessTrace.ReflectTrace(0x300, 0x1000_0008L, 0x0A00_0000L, 0, "protection"),
            0x9000L);
    AccessTrace vcpu =
        new AccessTrace(
            false,
            true,
            List.of(nohpte, prot),
            false,
            "reflected",
            0x5008,
            9,
            0,
            new AccessTrace.Rc(true, false),
            new AccessTrace.Rc(true, true));

    Simulation.AccessTrace t = PortTypes.fromVcpu(vcpu);

    assertThat(t)
        .isEqualTo(
            new Simulation.AccessTrace(
                false,
                true,
                List.of(
                    new Simulation.AccessTrace.FaultTrace(
                        Simulation.AccessTrace.FaultKind.NOHPTE,
                        new Simulation.AccessTrace.XlateTrace(
                            Simulation.AccessTrace.XlateStatus.OK,
                            0x5000,
                            0x77,
                            true,
                            false,
                            true,
                            4096),
                        new Simulation.AccessTrace.GfnToPfnTrace(5, 9, false, false, true, 11),
                        0x66L,
                        new Simulation.AccessTrace.MapTrace(9, false, true),
                        null,
                        null),
                    new Simulation.AccessTrace.FaultTrace(
                        Simulation.AccessTrace.FaultKind.PROTFAULT,
                        null,
                        null,
                        null,
                        null,
                        new Simulation.AccessTrace.ReflectTrace(
                            0x300, 0x1000_0008L, 0x0A00_0000L, 0, "protection"),
                        0x9000L)),
                false,
                "reflected",
                0x5008,
                9,
                0,
                new Simulation.Rc(true, false),
                new Simulation.Rc(true, true)));
  }

  @Test
  void fromVcpu_keepsAbsentRcAndFailureAbsent() {
    AccessTrace hit = new AccessTrace(true, false, List.of(), true, null, -1, 3, 99, null, null);

    Simulation.AccessTrace t = PortTypes.fromVcpu(hit);

    assertThat(t.rcBefore()).isNull();
    assertThat(t.rcAfter()).isNull();
    assertThat(t.failure()).isNull();
    assertThat(t.faults()).isEmpty();
    assertThat(t.tlbHit()).isTrue();
    assertThat(t.guestRealAddr()).isEqualTo(-1);
    assertThat(t.loadedValue()).isEqualTo(99);
  }

  @Test
  void enums_mapEveryConstantToADistinctOneOfTheSameName() {
    Set<Simulation.AccessTrace.FaultKind> kinds =
        EnumSet.noneOf(Simulation.AccessTrace.FaultKind.class);
    for (AccessTrace.FaultKind k : AccessTrace.FaultKind.values()) {
      assertThat(PortTypes.kind(k).name()).isEqualTo(k.name());
      kinds.add(PortTypes.kind(k));
    }
    assertThat(kinds).containsExactlyInAnyOrder(Simulation.AccessTrace.FaultKind.values());

    Set<Simulation.AccessTrace.XlateStatus> statuses =
        EnumSet.noneOf(Simulation.AccessTrace.XlateStatus.class);
    for (XlateStatus s : XlateStatus.values()) {
      assertThat(PortTypes.status(s).name()).isEqualTo(s.name());
      statuses.add(PortTypes.status(s));
    }
    assertThat(statuses).containsExactlyInAnyOrder(Simulation.AccessTrace.XlateStatus.values());
  }

  @Test
  void maxStateChanges_isTheVcpusOwnBound() {
    assertThat(Simulation.MAX_STATE_CHANGES).isEqualTo(Vcpu.MAX_STATE_CHANGES);
  }
}
