package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoResponse;
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

  /**
   * Unary calls land in a histogram whose smallest bucket is 10 us (sub-millisecond calls are
   * resolved), a streaming call in its own timer and not in the unary one.
   */
  @Test
  void unaryLatencies_resolveFromTenMicros_andStreamsAreTimedApart() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String name = "metrics-" + UUID.randomUUID();
    MethodDescriptor<EchoRequest, EchoResponse> stream =
        MethodDescriptor.<EchoRequest, EchoResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
            .setFullMethodName("test.Streams/Repeat")
            .setRequestMarshaller(ProtoUtils.marshaller(EchoRequest.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(EchoResponse.getDefaultInstance()))
            .build();
    BindableService streams =
        () ->
            ServerServiceDefinition.builder("test.Streams")
                .addMethod(
                    stream,
                    ServerCalls.asyncServerStreamingCall(
                        (EchoRequest req, StreamObserver<EchoResponse> out) -> {
                          for (int i = 0; i < 3; i++) {
                            out.onNext(
                                EchoResponse.newBuilder().setPayload(req.getPayload()).build());
                          }
                          out.onCompleted();
                        }))
                .build();
    GatewayServer server =
        GatewayServer.inProcess(
                name, List.of(new EchoService(), streams), List.of(new GrpcMetrics(registry)))
            .start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, registry)) {
      EchoServiceGrpc.newBlockingStub(ch).echo(EchoRequest.getDefaultInstance());
      Iterator<EchoResponse> it =
          ClientCalls.blockingServerStreamingCall(
              ch, stream, CallOptions.DEFAULT, EchoRequest.getDefaultInstance());
      int n = 0;
      while (it.hasNext()) {
        it.next();
        n++;
      }
      assertThat(n).isEqualTo(3);

      HttpResponse<String> scraped =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(scraped.statusCode()).isEqualTo(200);
      String text = scraped.body();
      String echo = "method=\"mmumesh.v1.EchoService/Echo\"";
      List<Double> bounds = new ArrayList<>();
      for (String line : text.split("\n")) {
        if (line.startsWith("grpc_server_call_seconds_bucket{") && line.contains(echo)) {
          String le = line.substring(line.indexOf("le=\"") + 4);
          le = le.substring(0, le.indexOf('"'));
          if (!le.equals("+Inf")) {
            bounds.add(Double.parseDouble(le));
          }
        }
      }
      assertThat(bounds).as("unary buckets").isNotEmpty();
      assertThat(bounds.stream().mapToDouble(Double::doubleValue).min().getAsDouble())
          .as("smallest unary bucket, seconds")
          .isLessThanOrEqualTo(10e-6);
      assertThat(bounds).as("buckets below 1 ms").filteredOn(b -> b < 1e-3).hasSizeGreaterThan(5);
      assertThat(text)
          .contains("grpc_server_call_seconds_count{" + echo + "} 1")
          .contains("grpc_server_stream_seconds_count{method=\"test.Streams/Repeat\"} 1")
          .doesNotContain("grpc_server_call_seconds_count{method=\"test.Streams/Repeat\"}")
          .doesNotContain("grpc_server_stream_seconds_count{" + echo + "}")
          .contains("grpc_server_calls_total{method=\"test.Streams/Repeat\",status=\"OK\"} 1.0");
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
