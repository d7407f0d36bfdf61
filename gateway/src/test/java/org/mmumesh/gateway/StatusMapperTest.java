package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.proto.v1.AccessKind;

class StatusMapperTest {

  @Test
  void everyKind_mapsToItsDocumentedCode() {
    assertThat(code(GatewayException.badField("vm_id", "bad")))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(GatewayException.notFound("vm 3"))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(GatewayException.alreadyExists("vm 3"))).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(code(GatewayException.wrongState("paused")))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(code(GatewayException.limit("64 VMs"))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(code(GatewayException.timeout("ask"))).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(code(GatewayException.unavailable("down"))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(code(new IllegalArgumentException("pfn: 9 is outside 0 .. 3")))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(new TimeoutException("ask timed out")))
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void wrappers_areUnwrapped_beforeMapping() {
    Throwable t =
        new CompletionException(new ExecutionException(GatewayException.notFound("host 7")));
    Status s = StatusMapper.toStatus(t);
    assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(s.getDescription()).isEqualTo("host 7 not found");
  }

  @Test
  void aBug_isInternal_withAnIncidentNumber_andCounted() {
    long before = StatusMapper.incidents();
    Status s = StatusMapper.toStatus(new NullPointerException("boom"));
    assertThat(s.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(s.getDescription()).contains("incident").doesNotContain("boom");
    assertThat(StatusMapper.incidents()).isEqualTo(before + 1);
  }

  @Test
  void fields_nameTheFieldAndRange() {
    assertThatThrownBy(() -> Fields.uint32("vcpu_count", 65, 1, 64))
        .hasMessage("vcpu_count: 65 is outside the allowed range 1 .. 64");
    assertThatThrownBy(() -> Fields.uint32("vm_id", -1, 0, 65535))
        .hasMessage("vm_id: 4294967295 is outside the allowed range 0 .. 65535");
    assertThatThrownBy(() -> Fields.uint64("memory_size_bytes", -1L, 65536, 1L << 36))
        .hasMessageStartingWith("memory_size_bytes: 18446744073709551615 is outside");
    assertThatThrownBy(() -> Fields.multipleOf("memory_size_bytes", 4097, 4096))
        .hasMessage("memory_size_bytes: 4097 is not a multiple of 4096");
    assertThat(Fields.uint32("vm_id", 7, 0, 65535)).isEqualTo(7);
  }

  @Test
  void protoMapping_refusesUnspecified_andRoundTrips() {
    assertThatThrownBy(
            () ->
                ProtoMapping.policy(
                    "options.policy", org.mmumesh.proto.v1.Policy.POLICY_UNSPECIFIED_VALUE))
        .isInstanceOfSatisfying(
            GatewayException.class,
            e -> assertThat(e.getMessage()).startsWith("options.policy: POLICY_UNSPECIFIED"));
    assertThatThrownBy(() -> ProtoMapping.access("kind", AccessKind.ACCESS_KIND_UNSPECIFIED_VALUE))
        .hasMessageStartingWith("kind: ");
    assertThatThrownBy(() -> ProtoMapping.access("kind", 12))
        .hasMessageStartingWith("kind: unknown number 12 is not allowed");
    assertThatThrownBy(() -> ProtoMapping.quirk("quirks[0]", 6))
        .hasMessageStartingWith("quirks[0]: unknown number 6 is not allowed");
    for (Policy p : Policy.values()) {
      MmuOptions o = MmuOptions.defaults(p);
      org.mmumesh.proto.v1.MmuOptions proto = ProtoMapping.toProto(o);
      assertThat(ProtoMapping.options("options", true, proto)).isEqualTo(o);
    }
    for (Quirk q : Quirk.values()) {
      assertThat(ProtoMapping.quirk("q", ProtoMapping.toProto(q).getNumber())).isEqualTo(q);
    }
    assertThat(ProtoMapping.access("kind", AccessKind.ACCESS_KIND_STORE_VALUE))
        .isEqualTo(Access.STORE);
    assertThatThrownBy(() -> ProtoMapping.options("options", false, null))
        .hasMessageStartingWith("options: is required");
  }

  private static Status.Code code(Throwable t) {
    return StatusMapper.toStatus(t).getCode();
  }

  @Test
  void everySimulationFailureKind_mapsToItsStatus_neverInternal() {
    for (org.mmumesh.mesh.SimulationException.Kind k :
        org.mmumesh.mesh.SimulationException.Kind.values()) {
      Status s =
          StatusMapper.toStatus(
              new CompletionException(new org.mmumesh.mesh.SimulationException(k, "why")));
      assertThat(s.getCode()).as(k.name()).isEqualTo(StatusMapper.codeOf(k).getCode());
      assertThat(s.getCode()).isNotEqualTo(Status.Code.INTERNAL);
      assertThat(s.getDescription()).isEqualTo("why");
    }
  }
}
