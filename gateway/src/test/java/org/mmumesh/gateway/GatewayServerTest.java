package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoServiceGrpc;

class GatewayServerTest {

  private static EchoRequest payload(int bytes) {
    return EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[bytes])).build();
  }

  @Test
  void echo_overNettyLoopback_returnsPayload_andHealthIsServing() {
    GatewayServer server =
        GatewayServer.netty("127.0.0.1", 0, List.of(new EchoService()), List.of()).start();
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      EchoRequest req =
          EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8("mmumesh")).build();
      assertThat(EchoServiceGrpc.newBlockingStub(ch).echo(req).getPayload().toStringUtf8())
          .isEqualTo("mmumesh");
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch);
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(
              health
                  .check(
                      HealthCheckRequest.newBuilder().setService("mmumesh.v1.EchoService").build())
                  .getStatus())
          .isEqualTo(ServingStatus.SERVING);
    } finally {
      ch.shutdownNow();
      server.shutdown(Duration.ofSeconds(5));
    }
    assertThat(server.isTerminated()).isTrue();
  }

  @Test
  void echo_oversizedPayload_isInvalidArgumentNamingTheField() {
    String name = "echo-" + UUID.randomUUID();
    GatewayServer server =
        GatewayServer.inProcess(name, List.of(new EchoService()), List.of()).start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      EchoServiceGrpc.EchoServiceBlockingStub stub = EchoServiceGrpc.newBlockingStub(ch);
      assertThat(stub.echo(payload(EchoService.MAX_PAYLOAD_BYTES)).getPayload().size())
          .isEqualTo(EchoService.MAX_PAYLOAD_BYTES);
      assertThatThrownBy(() -> stub.echo(payload(EchoService.MAX_PAYLOAD_BYTES + 1)))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(e.getStatus().getDescription())
                    .startsWith("payload: ")
                    .contains("65536");
              });
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }

  @Test
  void reflection_listsTheSimulationServices_andHealth() throws Exception {
    String name = "refl-" + UUID.randomUUID();
    GatewayServer server =
        GatewayServer.inProcess(name, List.of(new EchoService()), List.of()).start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    List<String> names = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    try {
      StreamObserver<ServerReflectionRequest> req =
          ServerReflectionGrpc.newStub(ch)
              .serverReflectionInfo(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                      r.getListServicesResponse()
                          .getServiceList()
                          .forEach(s -> names.add(s.getName()));
                    }

                    @Override
                    public void onError(Throwable t) {
                      done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                      done.countDown();
                    }
                  });
      req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
      req.onCompleted();
      assertThat(done.await(60, TimeUnit.SECONDS)).as("reflection answered").isTrue();
      assertThat(names)
          .contains(
              "mmumesh.v1.EchoService",
              "grpc.health.v1.Health",
              "grpc.reflection.v1.ServerReflection");
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }

  @Test
  void shutdown_setsHealthNotServingBeforeStopping() {
    String name = "health-" + UUID.randomUUID();
    GatewayServer server =
        GatewayServer.inProcess(name, List.of(new EchoService()), List.of()).start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      server.shutdown(Duration.ofSeconds(2));
      assertThat(server.isTerminated()).isTrue();
      assertThatThrownBy(
              () -> HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      ch.shutdownNow();
    }
  }
}
