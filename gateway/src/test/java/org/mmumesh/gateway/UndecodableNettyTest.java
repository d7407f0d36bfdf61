package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;

/**
 * Undecodable requests over Netty (real HTTP/2 framing, where grpc hands the request over as a
 * buffer stream rather than the in-process transport's): the raw rows of the malformed table, and a
 * stream whose second message does not decode after its first was answered.
 */
class UndecodableNettyTest {
  private static Mesh mesh;

  @BeforeAll
  static void start() {
    mesh = new Mesh(true);
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  @Test
  void everyRawRow_overNetty_getsInvalidArgumentNamingTheProblem() throws Exception {
    String hosts = mesh.hosts().listHosts(ListHostsRequest.getDefaultInstance()).toString();
    try (RawCalls.GrpcWarnings warnings = new RawCalls.GrpcWarnings()) {
      for (MalformedRequests.RawCase c : MalformedRequests.rawCases()) {
        MalformedEndToEndTest.checkRaw(mesh, c);
      }
      assertThat(warnings.seen()).as("grpc's warnings").isEmpty();
    }
    assertThat(mesh.hosts().listHosts(ListHostsRequest.getDefaultInstance()).toString())
        .isEqualTo(hosts);
  }

  @Test
  void aStreamWhoseSecondBatchDoesNotDecode_answersTheFirst_thenEndsInvalidArgument()
      throws Exception {
    mesh.hosts()
        .createHost(
            CreateHostRequest.newBuilder()
                .setHostId(7)
                .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                .setMaxFrames(4096)
                .build());
    mesh.vms().createVm(MalformedRequests.vm().setVmId(7).setHostId(7).build());
    RunWorkloadRequest batch =
        RunWorkloadRequest.newBuilder()
            .setVcpu(MalformedRequests.vcpu(7, 0))
            .addAccesses(MalformedRequests.load(0x1000))
            .build();
    RawCalls.Call call = new RawCalls.Call(mesh.channel, "mmumesh.v1.AccessService/RunWorkload");
    call.send(batch.toByteArray());
    Object first = call.next();
    assertThat(first).as("the first batch's answer").isInstanceOf(byte[].class);
    RunWorkloadResponse r = RunWorkloadResponse.parseFrom((byte[]) first);
    assertThat(r.getCompleted() + r.getFailed()).as("accesses run").isEqualTo(1);
    call.send(MalformedRequests.truncated(batch));
    Status s = call.finish();
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).startsWith("accesses: ").contains("truncated");
    // the VM's vCPU stream is free again: a new stream on it runs
    assertThat(mesh.runWorkload(java.util.List.of(batch)).get(0))
        .isInstanceOf(RunWorkloadResponse.class);
  }
}
