package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.AccessTrace.XlateStatus;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.shell.CborRoundTripTest;
import org.mmumesh.vcpu.VcpuSetup;

/** Every command and reply of the Vcpu protocol round-trips through Jackson CBOR. */
class VcpuSerializationTest extends CborRoundTripTest {
  private static Counts counters() {
    long[] c = new long[Counter.COUNT];
    for (int i = 0; i < c.length; i++) {
      c[i] = i + 1;
    }
    return new Counts(c);
  }

  @Test
  void everyCommandReplyAndSetup_roundTrips() {
    TestProbe<Vcpu.BatchReply> batch = kit.createTestProbe();
    TestProbe<Vcpu.ControlReply> control = kit.createTestProbe();
    TestProbe<Vcpu.StatusReport> status = kit.createTestProbe();
    TestProbe<Vcpu.StateReply> stateReply = kit.createTestProbe();
    TestProbe<Vcpu.TraceReply> traceReply = kit.createTestProbe();
    TestProbe<VcpuCheckpointProtocol.CheckpointReply> cp = kit.createTestProbe();
    List<Object> all =
        List.of(
            new Vcpu.RunBatch(
                1,
                List.of(
                    new AccessOp(Access.LOAD, 0x1000, 0),
                    new AccessOp(Access.STORE, -1L, Long.MIN_VALUE),
                    new AccessOp(Access.IFETCH, 0xC000000000000000L, 0)),
                batch.getRef()),
            new Vcpu.Halt(control.getRef()),
            new Vcpu.GetCounters(status.getRef()),
            new VcpuCheckpointProtocol.CheckpointState(3, cp.getRef()),
            new VcpuCheckpointProtocol.RestoreState(4, new byte[] {8, 0, -1}, cp.getRef()),
            new Vcpu.SetState(
                9,
                List.of(
                    new VcpuStateChange.Slbmte(0x1234_0000_0000_0000L, 0x0800_0000_0001L),
                    new VcpuStateChange.Slbia(),
                    new VcpuStateChange.Mtsrin(3, 0xFFFF_FFFFL),
                    new VcpuStateChange.SetBat(true, 2, 0xFFFF_FFFFL, 1),
                    new VcpuStateChange.SetMsr(true, false, true)),
                stateReply.getRef()),
            new Vcpu.StateSet(9, 5),
            new Vcpu.TraceAccess(10, new AccessOp(Access.STORE, -2L, 7), traceReply.getRef()),
            new Vcpu.AccessTraced(
                10,
                new AccessTrace(
                    false,
                    false,
                    List.of(
                        new AccessTrace.FaultTrace(
                            AccessTrace.FaultKind.PROTFAULT,
                            new AccessTrace.XlateTrace(
                                XlateStatus.OK, 0x5020, 0x1100_0005L, true, true, false, 4096),
                            new AccessTrace.GfnToPfnTrace(5, 9, true, false, true, 3),
                            0x1100_0005L,
                            new AccessTrace.MapTrace(9, false, true),
                            null,
                            null),
                        new AccessTrace.FaultTrace(
                            AccessTrace.FaultKind.NOHPTE,
                            new AccessTrace.XlateTrace(
                                XlateStatus.ENOENT, 0, 0, false, false, false, 0),
                            null,
                            null,
                            null,
                            new AccessTrace.ReflectTrace(0x300, -2L, 0x4000_0000L, 0, "not_found"),
                            null),
                        new AccessTrace.FaultTrace(
                            AccessTrace.FaultKind.NOEXEC, null, null, null, null, null, 0xC0010L)),
                    true,
                    null,
                    0x5020,
                    9,
                    Long.MIN_VALUE,
                    new AccessTrace.Rc(true, false),
                    null)),
            new Vcpu.AccessTraced(
                11,
                new AccessTrace(true, false, List.of(), false, "halted", -1, -1, 0, null, null)),
            new Vcpu.StoresApplied(7, 3, 1),
            new Vcpu.BatchDone(1, 2, 1, List.of("vm 0 vcpu 0 LOAD at 0x0: x"), counters()),
            new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED),
            new Vcpu.Rejected(-1, Vcpu.VcpuState.HALTED, "Halt: not allowed"),
            new VcpuCheckpointProtocol.StateCheckpoint(3, new byte[] {1, 0, -1}),
            new VcpuCheckpointProtocol.StateRestored(4, Vcpu.VcpuState.HALTED),
            new Vcpu.StatusReport(Vcpu.VcpuState.IDLE, 0, 5, 2, counters()),
            counters(),
            VcpuSetup.defaults(3, 1, MmuOptions.defaults(Policy.STRICT)),
            new VcpuSetup(
                0, 0, MmuOptions.defaults(Policy.LEGACY), 1, 1, Duration.ofMillis(1), 1, 1, 1));
    all.forEach(this::roundTrip);
    for (Vcpu.VcpuState s : Vcpu.VcpuState.values()) {
      roundTrip(new Vcpu.Acknowledged("x", s));
    }
  }

  @Test
  void counters_toMap_namesEveryField() {
    assertThat(counters().toMap())
        .hasSize(30)
        .containsEntry("ACCESSES", 1L)
        .containsEntry("MISSED_C", 24L)
        .containsEntry("FAILED_ACCESSES", 30L)
        .containsEntry("STORES_LOST", 35L)
        .doesNotContainKey("GUEST_DEMAND_MAPS"); // the guest kernel's, not a vCPU's
  }

  @Test
  void entityIds_roundTrip_andBadOnesAreRejectedNamingTheForm() {
    assertThat(Vcpu.entityId(7, 2)).isEqualTo("vm-7/vcpu-2");
    assertThat(Vcpu.vmAndVcpuOf("vm-7/vcpu-2")).containsExactly(7, 2);
    assertThatThrownBy(() -> Vcpu.vmAndVcpuOf("vm-7")).hasMessageStartingWith("entityId: 'vm-7'");
    assertThatThrownBy(() -> Vcpu.vmAndVcpuOf("vm-1/vcpu-4096"))
        .hasMessageContaining("n 0 to 4095");
    assertThatThrownBy(() -> Vcpu.entityId(0, 4096)).hasMessageStartingWith("vcpu");
  }

  @Test
  void setup_rejectsBadFields_namingThem() {
    MmuOptions o = MmuOptions.defaults(Policy.FIXED);
    assertThatThrownBy(() -> new VcpuSetup(0, 0, o, 3, 1, Duration.ofSeconds(1), 1, 1, 1))
        .hasMessageStartingWith("tlbEntries: 3");
    assertThatThrownBy(() -> new VcpuSetup(0, 0, o, 1, 1, Duration.ZERO, 1, 1, 1))
        .hasMessageStartingWith("requestTimeout");
    assertThatThrownBy(() -> new VcpuSetup(0, 0, o, 1, 1, Duration.ofSeconds(1), 1, 0, 1))
        .hasMessageStartingWith("maxOutstandingBatches");
    Duration second = Duration.ofSeconds(1);
    assertThatThrownBy(() -> new VcpuSetup(0, 0, o, 1, 1, second, 1, 1, 1, Duration.ofSeconds(2)))
        .hasMessageStartingWith("tickInterval: PT2S is out of range; allowed > 0 and at most");
    assertThatThrownBy(() -> new VcpuSetup(0, 0, o, 1, 1, second, 1, 1, 1, Duration.ZERO))
        .hasMessageStartingWith("tickInterval");
    assertThat(new VcpuSetup(0, 0, o, 1, 1, second, 1, 1, 1).tickInterval())
        .isEqualTo(Duration.ofMillis(100));
    assertThat(VcpuSetup.defaultTick(Duration.ofNanos(500))).isEqualTo(Duration.ofNanos(500));
  }
}
