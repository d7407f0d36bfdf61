package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.grpc.Status;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmumesh.common.AccessOp;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.WatchEventsRequest;

/** Every row of the malformed-request table is refused by validation with its code and field. */
class RequestValidationTest {

  static List<MalformedRequests.Case> cases() {
    return MalformedRequests.cases();
  }

  @Test
  void theTable_hasAtLeastFiftyRows() {
    assertThat(cases()).hasSizeGreaterThanOrEqualTo(50);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void malformed_isRefused_namingTheField(MalformedRequests.Case c) {
    assertThatThrownBy(() -> validate(c.request()))
        .isInstanceOfSatisfying(
            GatewayException.class,
            e -> {
              Status s = StatusMapper.toStatus(e);
              assertThat(s.getCode()).isEqualTo(c.code());
              assertThat(s.getDescription()).startsWith(c.field() + ": ");
            });
  }

  @Test
  void wellFormed_defaults_pass() {
    assertThat(validate(MalformedRequests.host().build())).isNotNull();
    Simulation.VmConfig vm = VmRequests.createVm(MalformedRequests.vm().build());
    assertThat(vm.memoryPages()).isEqualTo(256);
    assertThat(vm.tlbEntries()).isEqualTo(Limits.DEFAULT_TLB_ENTRIES);
    AccessRequests.Batch b =
        AccessRequests.batch(
            RunWorkloadRequest.newBuilder()
                .setVcpu(MalformedRequests.vcpu(1, 0))
                .addAccesses(MalformedRequests.load(0x10000000L))
                .build(),
            null);
    assertThat(b.ops()).extracting(AccessOp::ea).containsExactly(0x10000000L);
  }

  @Test
  void streamBatch_namingAnotherVcpu_isRefused() {
    RunWorkloadRequest r =
        RunWorkloadRequest.newBuilder()
            .setVcpu(MalformedRequests.vcpu(1, 1))
            .addAccesses(MalformedRequests.load(0))
            .build();
    assertThatThrownBy(() -> AccessRequests.batch(r, new int[] {1, 0}))
        .hasMessageStartingWith("vcpu: vm 1 vcpu 1 differs");
    assertThat(AccessRequests.batch(r.toBuilder().clearVcpu().build(), new int[] {1, 0}).vcpu())
        .isZero();
  }

  /** The validator an RPC runs first. */
  static Object validate(Message m) {
    if (m instanceof CreateHostRequest r) {
      return HostRequests.createHost(r);
    } else if (m instanceof CreateVmRequest r) {
      return VmRequests.createVm(r);
    } else if (m instanceof SetVcpuStateRequest r) {
      return VmRequests.vcpuState(r);
    } else if (m instanceof AddMemslotRequest r) {
      return VmRequests.addSlot(r);
    } else if (m instanceof LoadMemoryRequest r) {
      return VmRequests.load(r);
    } else if (m instanceof ReadMemoryRequest r) {
      return VmRequests.read(r);
    } else if (m instanceof AccessRequest r) {
      return AccessRequests.single(r);
    } else if (m instanceof RunWorkloadRequest r) {
      return AccessRequests.batch(r, null);
    } else if (m instanceof SetKsmControlRequest r) {
      return KsmRequests.control(r);
    } else if (m instanceof RunKsmPassesRequest r) {
      return KsmRequests.passes(r);
    } else if (m instanceof RunKsmBatchRequest r) {
      return KsmRequests.batch(r);
    } else if (m instanceof WatchEventsRequest r) {
      return KsmRequests.filter(r);
    }
    throw new AssertionError("no validator for " + m.getClass());
  }
}
