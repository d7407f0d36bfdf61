package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * Reading counters never starts a vCPU: after CreateVm with 8 vCPUs of 65,536-entry TLBs and no
 * access, a Prometheus scrape, GetHostStats and GetVmStats report zeros and leave no vCPU entity
 * running (the vCPU shard region's state on the only node); the first access starts exactly the
 * vCPU it ran on, and the next reads count it without starting the others.
 */
class IdleVcpusTest {

  @Test
  void scrapeAndStats_ofAVmThatNeverRan_startNoVcpu_andReportZeros() throws Exception {
    GatewayMain.Running r = GatewayMain.start(GatewayMain.Settings.defaults());
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", r.port()).usePlaintext().build();
    try {
      HostServiceGrpc.HostServiceBlockingStub hosts =
          HostServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
      VmServiceGrpc.VmServiceBlockingStub vms =
          VmServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
      hosts.createHost(SimulationEndToEndTest.host(1, false));
      vms.createVm(
          SimulationEndToEndTest.vm(1, 1, true, Policy.POLICY_FIXED, false).toBuilder()
              .setVcpuCount(8)
              .setTlbEntries(65536)
              .build());

      String scrape = scrape(r);
      Map<String, Long> host =
          SimulationEndToEndTest.counters(
              hosts
                  .getHostStats(GetHostStatsRequest.newBuilder().setHostId(1).build())
                  .getCountersList());
      Map<String, Long> vm =
          SimulationEndToEndTest.counters(
              vms.getVmStats(
                      GetVmStatsRequest.newBuilder().setVm(SimulationEndToEndTest.ref(1)).build())
                  .getCountersList());

      assertThat(r.cluster().entityIds(0, Vcpu.ENTITY_KEY)).as("live vCPU entities").isEmpty();
      assertThat(scrape)
          .contains("mmumesh_vm_accesses_total{host=\"1\",vm=\"1\"} 0.0")
          .contains("mmumesh_vm_exits_total{host=\"1\",kind=\"nohpte\",vm=\"1\"} 0.0");
      assertThat(host).containsEntry("simulated_nanos", 0L);
      assertThat(vm).containsEntry("accesses", 0L).containsEntry("tlb_hits", 0L);

      // one access starts its vCPU, and only it; reads then count it and start no other
      AccessServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .access(
              AccessRequest.newBuilder()
                  .setVcpu(MalformedRequests.vcpu(1, 3))
                  .setKind(AccessKind.ACCESS_KIND_LOAD)
                  .setEffectiveAddr(0x1000_0000L)
                  .build());
      String after = scrape(r);
      Map<String, Long> vmAfter =
          SimulationEndToEndTest.counters(
              vms.getVmStats(
                      GetVmStatsRequest.newBuilder().setVm(SimulationEndToEndTest.ref(1)).build())
                  .getCountersList());
      assertThat(r.cluster().entityIds(0, Vcpu.ENTITY_KEY)).containsExactly("vm-1/vcpu-3");
      assertThat(after).contains("mmumesh_vm_accesses_total{host=\"1\",vm=\"1\"} 1.0");
      assertThat(vmAfter).containsEntry("accesses", 1L);
    } finally {
      ch.shutdownNow();
      r.close();
    }
  }

  private static String scrape(GatewayMain.Running r) throws Exception {
    HttpResponse<String> res =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + r.metrics().port() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).isEqualTo(200);
    return res.body();
  }
}
