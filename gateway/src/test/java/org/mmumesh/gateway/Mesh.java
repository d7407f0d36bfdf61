package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.mesh.EventFeed;
import org.mmumesh.mesh.MeshCluster;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.ClusterServiceGrpc;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.KsmServiceGrpc;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VmServiceGrpc;

/**
 * A real single-node mesh with the gateway served over it (in process, or Netty on loopback),
 * shared by the end-to-end tests of one class (starting a cluster takes seconds).
 */
final class Mesh implements AutoCloseable {
  final MeshCluster cluster;
  final Simulation sim;
  final GatewayServer server;
  final ManagedChannel channel;

  /** Served in process. */
  Mesh() {
    this(false);
  }

  /** Served in process, or over Netty on a loopback port ({@code netty}). */
  Mesh(boolean netty) {
    this(netty, ConfigFactory.empty());
  }

  /** As {@link #Mesh(boolean)}, the mesh configured with {@code overrides}. */
  Mesh(boolean netty, com.typesafe.config.Config overrides) {
    cluster = MeshCluster.embeddedSimulation(overrides);
    sim = cluster.simulation(0);
    if (netty) {
      server = GatewayServer.netty("127.0.0.1", 0, GatewayMain.services(sim), List.of()).start();
      channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    } else {
      String name = "mesh-" + UUID.randomUUID();
      server = GatewayServer.inProcess(name, GatewayMain.services(sim), List.of()).start();
      channel = InProcessChannelBuilder.forName(name).build();
    }
  }

  HostServiceGrpc.HostServiceBlockingStub hosts() {
    return HostServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  VmServiceGrpc.VmServiceBlockingStub vms() {
    return VmServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  KsmServiceGrpc.KsmServiceBlockingStub ksm() {
    return KsmServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  ClusterServiceGrpc.ClusterServiceBlockingStub clusterStub() {
    return ClusterServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  AccessServiceGrpc.AccessServiceBlockingStub access() {
    return AccessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  /**
   * Waits until this node's event bus holds {@code n} watchers whose filter passes {@code which}
   * (their WatchEvents calls attached: every event published from then on reaches them), polling
   * the condition; the generous deadline only bounds the wait.
   */
  void awaitWatchers(java.util.function.Predicate<MeshEvent.Filter> which, int n) {
    MeshEventBus bus = EventFeed.forNode(cluster.address(0)).orElseThrow().bus();
    org.awaitility.Awaitility.await(n + " watchers attached")
        .atMost(60, TimeUnit.SECONDS)
        .until(() -> bus.watchers().stream().filter(w -> which.test(w.filter())).count() >= n);
  }

  /** The status a call fails with (OK when it did not fail). */
  static Status statusOf(Runnable call) {
    try {
      call.run();
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  /** A stream's answers, in order: responses, then "completed" or the final Status. */
  static class Queued<T> implements StreamObserver<T> {
    final LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();

    @Override
    public void onNext(T r) {
      q.add(r);
    }

    @Override
    public void onError(Throwable t) {
      q.add(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      q.add("completed");
    }

    Object next() throws InterruptedException {
      Object o = q.poll(60, TimeUnit.SECONDS);
      assertThat(o).as("an answer within 60 s").isNotNull();
      return o;
    }
  }

  /** A RunWorkload stream's answers. */
  static final class Answers extends Queued<RunWorkloadResponse> {}

  /** Runs {@code batches} on one stream to its end; the responses, then the end marker. */
  List<Object> runWorkload(List<RunWorkloadRequest> batches) throws InterruptedException {
    Answers a = new Answers();
    StreamObserver<RunWorkloadRequest> req = AccessServiceGrpc.newStub(channel).runWorkload(a);
    for (RunWorkloadRequest b : batches) {
      req.onNext(b);
    }
    req.onCompleted();
    List<Object> out = new ArrayList<>();
    while (true) {
      Object o = a.next();
      out.add(o);
      if (!(o instanceof RunWorkloadResponse)) {
        return out;
      }
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.close();
    cluster.close();
  }
}
