package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateHostResponse;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.CreateVmResponse;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.LoadMemoryResponse;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VmServiceGrpc;

/**
 * What {@code client run} exits with when its workload stream ends because the VM was lost (README
 * "Exit codes"): ABORTED (the stream was running when a node holding the VM's entities was lost)
 * exits 3, the environment's failure; FAILED_PRECONDITION (the VM was already lost when the stream
 * started) exits 2. Each is one line with the status and the gateway's description, no stack trace.
 * The gateway here is a stand-in on a real Netty port that creates the host and VM and ends the
 * stream with the given status, as the mesh's gateway does for a lost VM (AccessService).
 */
class ClientRunLostVmTest {

  private static final String LOST =
      "vm 31 is lost: node pekko://mmumesh-mesh@127.0.0.1:25521 left the cluster with its guest"
          + " MMU, host MMU, vCPU 0";

  /** A gateway that creates hosts and VMs and ends every workload stream with {@code end}. */
  private static Server gateway(Status end) throws java.io.IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(
            new HostServiceGrpc.HostServiceImplBase() {
              @Override
              public void createHost(CreateHostRequest r, StreamObserver<CreateHostResponse> o) {
                o.onNext(CreateHostResponse.getDefaultInstance());
                o.onCompleted();
              }
            })
        .addService(
            new VmServiceGrpc.VmServiceImplBase() {
              @Override
              public void createVm(CreateVmRequest r, StreamObserver<CreateVmResponse> o) {
                o.onNext(CreateVmResponse.getDefaultInstance());
                o.onCompleted();
              }

              @Override
              public void loadMemory(LoadMemoryRequest r, StreamObserver<LoadMemoryResponse> o) {
                o.onNext(LoadMemoryResponse.getDefaultInstance());
                o.onCompleted();
              }
            })
        .addService(
            new AccessServiceGrpc.AccessServiceImplBase() {
              @Override
              public StreamObserver<RunWorkloadRequest> runWorkload(
                  StreamObserver<RunWorkloadResponse> o) {
                return new StreamObserver<>() {
                  @Override
                  public void onNext(RunWorkloadRequest r) {
                    o.onError(end.asRuntimeException());
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                };
              }
            })
        .build()
        .start();
  }

  private static CliRun run(Server gw) {
    return CliRun.of(
        "client",
        "--target",
        "127.0.0.1:" + gw.getPort(),
        "run",
        "--workload",
        "identical:vms=1,vcpus=1,pages=64,mmu=64,seed=3,ws=64,read=1.0,accesses=1000",
        "--host-id",
        "31",
        "--first-vm",
        "31",
        "--ksm-passes",
        "0",
        "--progress",
        "off");
  }

  private static void stop(Server gw) throws InterruptedException {
    gw.shutdownNow();
    gw.awaitTermination(10, TimeUnit.SECONDS);
  }

  @Test
  void streamEndedAborted_byAVmLostWhileRunning_exits3_withTheGatewaysLine() throws Exception {
    Server gw = gateway(Status.ABORTED.withDescription(LOST));
    try {
      CliRun r = run(gw);
      assertThat(r.exit()).as(r.err()).isEqualTo(3);
      assertThat(r.err()).contains("mmumesh client: ABORTED: " + LOST).doesNotContain("\tat ");
    } finally {
      stop(gw);
    }
  }

  @Test
  void streamRefusedFailedPrecondition_onAVmAlreadyLost_exits2() throws Exception {
    Server gw = gateway(Status.FAILED_PRECONDITION.withDescription(LOST));
    try {
      CliRun r = run(gw);
      assertThat(r.exit()).as(r.err()).isEqualTo(2);
      assertThat(r.err())
          .contains("mmumesh client: FAILED_PRECONDITION: " + LOST)
          .doesNotContain("\tat ");
    } finally {
      stop(gw);
    }
  }
}
