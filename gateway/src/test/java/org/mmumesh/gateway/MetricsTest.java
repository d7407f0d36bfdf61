package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoServiceGrpc;

class MetricsTest {

  @Test
  void perRpcCountsAndLatencies_areScrapedOverHttp() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String name = "metrics-" + UUID.randomUUID();
    GatewayServer server =
        GatewayServer.inProcess(
                name, List.of(new EchoService()), List.of(new GrpcMetrics(registry)))
            .start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, registry)) {
      EchoServiceGrpc.EchoServiceBlockingStub stub = EchoServiceGrpc.newBlockingStub(ch);
      for (int i = 0; i < 3; i++) {
        stub.echo(EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8("x")).build());
      }
      byte[] tooBig = new byte[EchoService.MAX_PAYLOAD_BYTES + 1];
      assertThatThrownBy(
              () ->
                  stub.echo(
                      EchoRequest.newBuilder().setPayload(ByteString.copyFrom(tooBig)).build()))
          .hasMessageContaining("INVALID_ARGUMENT");
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body())
          .contains(
              "grpc_server_calls_total{method=\"mmumesh.v1.EchoService/Echo\",status=\"OK\"} 3.0")
          .contains(
              "grpc_server_calls_total{method=\"mmumesh.v1.EchoService/Echo\",status=\"INVALID_ARGUMENT\"} 1.0")
          .contains("grpc_server_call_seconds_count{method=\"mmumesh.v1.EchoService/Echo\"} 4");
      HttpResponse<String> missing =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/other"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(missing.statusCode()).isEqualTo(404);
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }

  @Test
  void simulationMetrics_whenTheSimulationFails_keepTheScrapeAndCountTheFailure() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    StubSimulation stub = new StubSimulation();
    SimulationMetrics m = new SimulationMetrics(stub.simulation(), registry);
    m.refresh(java.time.Duration.ofSeconds(1));
    m.refresh(java.time.Duration.ofSeconds(1));
    assertThat(stub.otherCalls).contains("listHosts");
    assertThat(registry.scrape())
        .contains("mmumesh_metrics_refresh_failures_total 2.0")
        .doesNotContain("mmumesh_vm_");
  }
}
