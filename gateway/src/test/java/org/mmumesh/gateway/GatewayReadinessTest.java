package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The gateway's part of a node's readiness ({@link GatewayReadiness}) and its {@code
 * grpc.health.v1} status set from the node's readiness ({@link GatewayServer#setHealth}).
 */
class GatewayReadinessTest {

  private static Boolean ready(GatewayReadiness check) throws Exception {
    return check.get().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void notReady_untilTheServerServes_andAgainOnceItShutsDown() throws Exception {
    ActorSystem system =
        ActorSystem.create("readiness", ConfigFactory.parseString("pekko.actor.provider = local"));
    String name = "readiness-" + UUID.randomUUID();
    GatewayServer server = GatewayServer.inProcess(name, List.of(new EchoService()), List.of());
    try {
      GatewayReadiness check = new GatewayReadiness(system);
      assertThatThrownBy(() -> ready(check))
          .isInstanceOf(ExecutionException.class)
          .hasMessageContaining("the gRPC gateway of this node is not serving yet");

      server.start();
      GatewayReadiness.SERVING.get(system).server = server;
      assertThat(ready(check)).isTrue();

      server.shutdown(Duration.ZERO);
      assertThatThrownBy(() -> ready(check))
          .isInstanceOf(ExecutionException.class)
          .hasMessageContaining("the gRPC gateway of this node is shutting down");
    } finally {
      server.close();
      system.terminate();
    }
  }

  @Test
  void grpcHealth_followsWhatTheNodeSays() {
    String name = "health-" + UUID.randomUUID();
    GatewayServer server =
        GatewayServer.inProcess(name, List.of(new EchoService()), List.of()).start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch);
      HealthCheckRequest all = HealthCheckRequest.getDefaultInstance();
      assertThat(health.check(all).getStatus()).isEqualTo(ServingStatus.SERVING);
      server.setHealth(false);
      assertThat(health.check(all).getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
      assertThat(
              health
                  .check(
                      HealthCheckRequest.newBuilder().setService("mmumesh.v1.EchoService").build())
                  .getStatus())
          .isEqualTo(ServingStatus.NOT_SERVING);
      server.setHealth(true);
      assertThat(health.check(all).getStatus()).isEqualTo(ServingStatus.SERVING);
      server.shutdown(Duration.ZERO);
      server.setHealth(true); // after the shutdown began: stays NOT_SERVING
      assertThat(server.isServing()).isFalse();
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }
}
