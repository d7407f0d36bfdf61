package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.DeleteVmRequest;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * The server entry point over Netty on a loopback port: the embedded mesh, the services, health,
 * the Prometheus endpoint, a workload streamed over a real TCP connection, and the graceful
 * shutdown through CoordinatedShutdown (the server is gone once {@code close} returns).
 */
class GatewayMainTest {

  @Test
  void start_servesOverNetty_withHealthAndMetrics_andClosesThroughCoordinatedShutdown()
      throws Exception {
    GatewayMain.Running r = GatewayMain.start(GatewayMain.Settings.defaults());
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", r.port()).usePlaintext().build();
    CompletableFuture<WatchEventsResponse> firstEvent = new CompletableFuture<>();
    CompletableFuture<Status> watchEnd = new CompletableFuture<>();
    try {
      assertThat(
              HealthGrpc.newBlockingStub(ch)
                  .check(HealthCheckRequest.newBuilder().setService("mmumesh.v1.VmService").build())
                  .getStatus())
          .isEqualTo(ServingStatus.SERVING);
      HostServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .createHost(SimulationEndToEndTest.host(1, false));
      VmServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .createVm(SimulationEndToEndTest.vm(1, 1, true, Policy.POLICY_FIXED, false));

      EventServiceGrpc.newStub(ch)
          .watchEvents(
              WatchEventsRequest.newBuilder().setVmId(1).build(),
              new StreamObserver<>() {
                @Override
                public void onNext(WatchEventsResponse e) {
                  firstEvent.complete(e);
                }

                @Override
                public void onError(Throwable t) {
                  watchEnd.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                  watchEnd.complete(Status.OK);
                }
              });

      // the watch attaches asynchronously: wait until the node's event bus holds it, so the
      // workload's faults are published to it (a race under load before: the first event missed)
      String self = r.simulation().members().toCompletableFuture().join().selfAddress();
      org.mmumesh.common.MeshEventBus bus =
          org.mmumesh.mesh.EventFeed.forNode(self).orElseThrow().bus();
      org.awaitility.Awaitility.await("the watch attached")
          .atMost(60, TimeUnit.SECONDS)
          .until(() -> bus.watchers().stream().anyMatch(w -> w.filter().vmId() == 1));
      Mesh.Answers answers = new Mesh.Answers();
      StreamObserver<RunWorkloadRequest> req = AccessServiceGrpc.newStub(ch).runWorkload(answers);
      List<RunWorkloadRequest> batches = SimulationEndToEndTest.workload(1, 16);
      batches.forEach(req::onNext);
      req.onCompleted();
      for (int i = 0; i < batches.size(); i++) {
        RunWorkloadResponse res = (RunWorkloadResponse) answers.next();
        assertThat(res.getCompleted()).isEqualTo(16);
      }
      assertThat(answers.next()).isEqualTo("completed");
      assertThat(firstEvent.get(30, TimeUnit.SECONDS).getVmId()).isEqualTo(1);

      HttpResponse<String> metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + r.metrics().port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("grpc_server_calls_total")
          .contains("mmumesh.v1.AccessService/RunWorkload")
          // the simulation's own metrics, read at the scrape
          .contains("mmumesh_vm_accesses_total{host=\"1\",vm=\"1\"} 64.0")
          .containsPattern("mmumesh_vm_exits_total\\{host=\"1\",kind=\"nohpte\",vm=\"1\"} [1-9]")
          .contains("mmumesh_ksm_pages_sharing{host=\"1\"} 0.0")
          .contains("mmumesh_ksm_full_scans_total{host=\"1\"}")
          .containsPattern("mmumesh_host_frames_in_use\\{host=\"1\"} [1-9]");
      // a deleted VM's meters go at the next scrape
      VmServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .deleteVm(DeleteVmRequest.newBuilder().setVm(SimulationEndToEndTest.ref(1)).build());
      String after =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + r.metrics().port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(after).doesNotContain("vm=\"1\"").contains("mmumesh_ksm_pages_shared{host=\"1\"}");
    } finally {
      r.close();
    }
    assertThat(r.server().isTerminated()).isTrue();
    Status ended = watchEnd.get(30, TimeUnit.SECONDS);
    assertThat(ended.getCode())
        .as("the open watch was ended first")
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(ended.getDescription()).contains("shutting down");
    Status s =
        Mesh.statusOf(
            () -> HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.getDefaultInstance()));
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    ch.shutdownNow();
  }
}
