package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;

/**
 * RunWorkload's flow control at the edge, against a stub simulation whose batches the test answers:
 * never more than two batches in the server per stream, results in order, one stream per vCPU.
 */
class RunWorkloadFlowControlTest {
  private final StubSimulation stub = new StubSimulation();
  private final AtomicInteger received = new AtomicInteger();
  private final AtomicInteger sent = new AtomicInteger();
  private final AtomicInteger maxInServer = new AtomicInteger();
  private GatewayServer server;
  private ManagedChannel channel;

  /** Counts stream messages in and results out of the server; remembers the largest gap. */
  private final ServerInterceptor counting =
      new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
          ServerCall<Q, R> out =
              new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void sendMessage(R message) {
                  sent.incrementAndGet();
                  super.sendMessage(message);
                }
              };
          return new SimpleForwardingServerCallListener<>(next.startCall(out, headers)) {
            @Override
            public void onMessage(Q message) {
              int in = received.incrementAndGet() - sent.get();
              maxInServer.accumulateAndGet(in, Math::max);
              super.onMessage(message);
            }
          };
        }
      };

  @BeforeEach
  void start() {
    String name = "flow-" + UUID.randomUUID();
    VcpuStreams streams = new VcpuStreams();
    server =
        GatewayServer.inProcess(
                name, List.of(new AccessService(stub.simulation(), streams)), List.of(counting))
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  private static RunWorkloadRequest batch(long id, boolean first) {
    RunWorkloadRequest.Builder b =
        RunWorkloadRequest.newBuilder()
            .setBatchId(id)
            .addAccesses(MalformedRequests.load(0x1000 * id))
            .addAccesses(MalformedRequests.load(0x1000 * id + 8));
    if (first) {
      b.setVcpu(MalformedRequests.vcpu(3, 1));
    }
    return b.build();
  }

  @Test
  void fastClient_neverHasMoreThanTwoBatchesInTheServer_andGetsResultsInOrder() throws Exception {
    Mesh.Answers answers = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> req =
        AccessServiceGrpc.newStub(channel).runWorkload(answers);
    int n = 6;
    for (int i = 1; i <= n; i++) {
      req.onNext(batch(i, i == 1));
    }
    req.onCompleted();
    for (int i = 1; i <= n; i++) {
      StubSimulation.Call c = stub.batches.poll(10, TimeUnit.SECONDS);
      assertThat(c).as("batch " + i + " handed to the simulation").isNotNull();
      assertThat(c.vm()).isEqualTo(3);
      assertThat(c.vcpu()).isEqualTo(1);
      assertThat(c.ops().get(0).ea()).isEqualTo(0x1000L * i);
      // the next batch is handed over only after this one answered: one at a time on the vCPU
      assertThat(stub.batches).isEmpty();
      assertThat(received.get() - sent.get()).isLessThanOrEqualTo(AccessService.MAX_IN_FLIGHT);
      c.result().complete(StubSimulation.result(2));
      RunWorkloadResponse r = (RunWorkloadResponse) answers.next();
      assertThat(r.getBatchId()).isEqualTo(i);
      assertThat(r.getCompleted()).isEqualTo(2);
    }
    assertThat(answers.next()).isEqualTo("completed");
    assertThat(received.get()).isEqualTo(n);
    assertThat(maxInServer.get()).isBetween(1, AccessService.MAX_IN_FLIGHT);
    assertThat(stub.otherCalls).isEmpty();
  }

  @Test
  void secondStreamOnTheSameVcpu_isFailedPrecondition_andTheFirstGoesOn() throws Exception {
    Mesh.Answers first = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> a = AccessServiceGrpc.newStub(channel).runWorkload(first);
    a.onNext(batch(1, true));
    StubSimulation.Call c = stub.batches.poll(10, TimeUnit.SECONDS);
    assertThat(c).isNotNull();

    Mesh.Answers second = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> b = AccessServiceGrpc.newStub(channel).runWorkload(second);
    b.onNext(batch(1, true));
    Status s = (Status) second.next();
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).contains("vm 3 vcpu 1");

    c.result().complete(StubSimulation.result(2));
    assertThat(((RunWorkloadResponse) first.next()).getBatchId()).isEqualTo(1);
    a.onCompleted();
    assertThat(first.next()).isEqualTo("completed");
    assertThat(stub.batches).isEmpty();

    // the vCPU is free again once the first stream ended
    Mesh.Answers third = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> t = AccessServiceGrpc.newStub(channel).runWorkload(third);
    t.onNext(batch(7, true));
    StubSimulation.Call c3 = stub.batches.poll(10, TimeUnit.SECONDS);
    assertThat(c3).isNotNull();
    c3.result().complete(StubSimulation.result(2));
    t.onCompleted();
    assertThat(((RunWorkloadResponse) third.next()).getBatchId()).isEqualTo(7);
    assertThat(third.next()).isEqualTo("completed");
  }

  @Test
  void nonIncreasingBatchId_endsTheStreamWithInvalidArgument() throws Exception {
    Mesh.Answers answers = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> req =
        AccessServiceGrpc.newStub(channel).runWorkload(answers);
    req.onNext(batch(5, true));
    req.onNext(batch(5, false));
    StubSimulation.Call c = stub.batches.poll(10, TimeUnit.SECONDS);
    assertThat(c).isNotNull();
    Status s = (Status) answers.next();
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).startsWith("batch_id: 5 is not above");
    // the second batch was refused before it was handed over
    assertThat(stub.batches).isEmpty();
    c.result().complete(StubSimulation.result(2));
  }

  @Test
  void simulationFailure_endsTheStreamWithItsStatus() throws Exception {
    Mesh.Answers answers = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> req =
        AccessServiceGrpc.newStub(channel).runWorkload(answers);
    req.onNext(batch(1, true));
    StubSimulation.Call c = stub.batches.poll(10, TimeUnit.SECONDS);
    c.result().completeExceptionally(GatewayException.notFound("vm 3"));
    Status s = (Status) answers.next();
    assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void vmLostWhileItsBatchRan_endsTheStreamAborted_namingTheLoss_andFreesTheVcpu()
      throws Exception {
    Mesh.Answers answers = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> req =
        AccessServiceGrpc.newStub(channel).runWorkload(answers);
    req.onNext(batch(1, true));
    req.onNext(batch(2, false));
    StubSimulation.Call c = stub.batches.poll(10, TimeUnit.SECONDS);
    assertThat(c).isNotNull();
    String why =
        "vm 3 is lost: node pekko://mmumesh-mesh@127.0.0.1:25521 left the cluster with its guest"
            + " MMU, host MMU, vCPUs 0-1 (entity state lives in memory only and is not handed over"
            + " to another node); delete the vm and create it anew; the call was running";
    c.result()
        .completeExceptionally(
            new org.mmumesh.mesh.SimulationException(
                org.mmumesh.mesh.SimulationException.Kind.LOST, why));
    Status s = (Status) answers.next();
    assertThat(s.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(s.getDescription()).isEqualTo(why);
    // the stream's second batch never ran; the vCPU takes a new stream
    assertThat(stub.batches).isEmpty();
    Mesh.Answers next = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> again = AccessServiceGrpc.newStub(channel).runWorkload(next);
    again.onNext(batch(3, true));
    StubSimulation.Call c2 = stub.batches.poll(10, TimeUnit.SECONDS);
    assertThat(c2).isNotNull();
    c2.result().complete(StubSimulation.result(2));
    again.onCompleted();
    assertThat(((RunWorkloadResponse) next.next()).getBatchId()).isEqualTo(3);
    assertThat(next.next()).isEqualTo("completed");
  }
}
