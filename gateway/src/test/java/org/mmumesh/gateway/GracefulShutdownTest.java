package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.MeshEngine;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * The gateway's graceful shutdown through GatewayMain over Netty: health NOT_SERVING first (on an
 * open connection and on a new one, the port still listening during the drain), new calls refused
 * UNAVAILABLE with a retry hint, a workload stream open before the shutdown still served (the
 * simulation runs under it) until its client ends it, and a stream still open when the drain time
 * is over ended UNAVAILABLE with a retry hint, not CANCELLED.
 */
class GracefulShutdownTest {

  private static final Duration DRAIN = Duration.ofSeconds(20);

  @Test
  void meshConfig_raisesTheServiceUnbindPhaseAboveTheDrain_unlessSet() {
    Config c =
        MeshEngine.config(GatewayMain.meshConfig(ConfigFactory.empty(), Duration.ofSeconds(42)));
    Duration unbind = c.getDuration("pekko.coordinated-shutdown.phases.service-unbind.timeout");
    assertThat(unbind).isEqualTo(Duration.ofSeconds(42).plus(GatewayMain.UNBIND_MARGIN));
    assertThat(c.getDuration("mmumesh.mesh.shutdown-timeout")).isGreaterThan(unbind);
    Config mine =
        MeshEngine.config(
            GatewayMain.meshConfig(
                ConfigFactory.parseString(
                    "pekko.coordinated-shutdown.phases.service-unbind.timeout = 7s"),
                Duration.ofSeconds(42)));
    assertThat(mine.getDuration("pekko.coordinated-shutdown.phases.service-unbind.timeout"))
        .isEqualTo(Duration.ofSeconds(7));
  }

  private static ServingStatus health(ManagedChannel ch) {
    return HealthGrpc.newBlockingStub(ch)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }

  /** Polls {@code condition} until it holds, failing after 60 s. */
  private static void await(String what, BooleanSupplier condition) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - end).as("still not: " + what).isNegative();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  private static ManagedChannel channel(GatewayMain.Running r) {
    return NettyChannelBuilder.forAddress("127.0.0.1", r.port()).usePlaintext().build();
  }

  @Test
  void drain_notServingFirst_refusesNewCalls_servesOpenStreams_andEndsTheRestUnavailable()
      throws Exception {
    GatewayMain.Running r =
        GatewayMain.start(
            new GatewayMain.Settings("127.0.0.1", 0, 0, DRAIN, ConfigFactory.empty()));
    ManagedChannel ch = channel(r);
    ManagedChannel fresh = null;
    CompletableFuture<Void> closing = null;
    try {
      HostServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .createHost(SimulationEndToEndTest.host(1, false));
      for (int vm = 1; vm <= 2; vm++) {
        VmServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(60, TimeUnit.SECONDS)
            .createVm(SimulationEndToEndTest.vm(vm, 1, true, Policy.POLICY_FIXED, false));
      }
      List<RunWorkloadRequest> one = SimulationEndToEndTest.workload(1, 16);
      Mesh.Answers a = new Mesh.Answers();
      StreamObserver<RunWorkloadRequest> streamA = AccessServiceGrpc.newStub(ch).runWorkload(a);
      streamA.onNext(one.get(0));
      assertThat(a.next()).isInstanceOf(RunWorkloadResponse.class);
      Mesh.Answers b = new Mesh.Answers();
      StreamObserver<RunWorkloadRequest> streamB = AccessServiceGrpc.newStub(ch).runWorkload(b);
      streamB.onNext(SimulationEndToEndTest.workload(2, 16).get(0));
      assertThat(b.next()).isInstanceOf(RunWorkloadResponse.class);
      Mesh.Queued<WatchEventsResponse> watch = new Mesh.Queued<>();
      EventServiceGrpc.newStub(ch).watchEvents(WatchEventsRequest.getDefaultInstance(), watch);
      assertThat(health(ch)).isEqualTo(ServingStatus.SERVING);

      closing = CompletableFuture.runAsync(r::close);

      await("NOT_SERVING on the open connection", () -> health(ch) == ServingStatus.NOT_SERVING);
      fresh = channel(r);
      assertThat(health(fresh))
          .as("a new connection during the drain")
          .isEqualTo(ServingStatus.NOT_SERVING);
      ManagedChannel f = fresh;
      Status refused =
          Mesh.statusOf(
              () ->
                  HostServiceGrpc.newBlockingStub(f)
                      .withDeadlineAfter(30, TimeUnit.SECONDS)
                      .listHosts(ListHostsRequest.getDefaultInstance()));
      assertThat(refused.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(refused.getDescription()).contains("retry");

      // the stream open before the shutdown is still served: the simulation runs under it
      streamA.onNext(one.get(1));
      Object second = a.next();
      assertThat(second).isInstanceOf(RunWorkloadResponse.class);
      assertThat(((RunWorkloadResponse) second).getCompleted()).isEqualTo(16);
      streamA.onCompleted();
      assertThat(a.next()).isEqualTo("completed");

      Object watchEnd = watch.next();
      assertThat(watchEnd).isInstanceOf(Status.class);
      assertThat(((Status) watchEnd).getCode()).isEqualTo(Status.Code.UNAVAILABLE);

      // the stream nobody ends is ended when the drain time is over: UNAVAILABLE, retry hint
      Object end = b.q.poll(DRAIN.toSeconds() + 60, TimeUnit.SECONDS);
      assertThat(end).as("stream B's end").isInstanceOf(Status.class);
      Status endB = (Status) end;
      assertThat(endB.getCode()).as(endB.toString()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(endB.getDescription()).contains("shutting down").contains("retry");

      closing.get(120, TimeUnit.SECONDS);
      assertThat(r.server().isTerminated()).isTrue();
    } finally {
      ch.shutdownNow();
      if (fresh != null) {
        fresh.shutdownNow();
      }
      if (closing == null) {
        r.close();
      }
    }
  }
}
