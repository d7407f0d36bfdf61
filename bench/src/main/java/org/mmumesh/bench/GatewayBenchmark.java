package org.mmumesh.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.mmumesh.common.Access;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoServiceGrpc;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.proto.v1.WorkloadAccess;
import org.mmumesh.vcpu.Vcpu;

/**
 * Issue 5's benchmarks (not tests), in one JVM: a gateway over Netty on loopback in front of the
 * embedded single-node mesh.
 *
 * <ul>
 *   <li><b>Streaming</b>: accesses per second of a workload streamed through {@code RunWorkload}
 *       (batches of {@value #BATCH}, two in flight: the server's stream window) against the same
 *       batches given to the mesh in-JVM ({@code Simulation.runBatch}, no gRPC); the workload
 *       cycles over 16 pages, so after the first pass every access is a TLB hit and the figure is
 *       the transport's and the vCPU's, not the fault path's.
 *   <li><b>Unary latency</b>: p50/p99 (HdrHistogram, microseconds) of single {@code Access} calls
 *       (a load that hits the TLB, traced) against the transport-only {@code Echo} in the same
 *       server.
 * </ul>
 *
 * Usage: {@code java -cp bench/target/benchmarks.jar org.mmumesh.bench.GatewayBenchmark [rounds]}
 * (or {@code bin/mmumesh-bench gateway}). Each measurement is repeated {@code rounds} times
 * (default 5) after one warm-up; medians are reported with the ratios.
 */
public final class GatewayBenchmark {
  static final int BATCH = 4096;
  static final int BATCHES = 64;
  static final int UNARY = 3000;
  static final long WINDOW = 0x1000_0000L;

  private GatewayBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    System.out.printf(
        "== mmumesh issue 5 benchmarks: %d processors, Java %s%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
    try (GatewayMain.Running server = GatewayMain.start(GatewayMain.Settings.defaults())) {
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        HostServiceGrpc.newBlockingStub(ch)
            .createHost(
                CreateHostRequest.newBuilder()
                    .setHostId(1)
                    .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                    .setMaxFrames(4096)
                    .build());
        for (int vm = 1; vm <= 3; vm++) {
          VmServiceGrpc.newBlockingStub(ch)
              .createVm(
                  CreateVmRequest.newBuilder()
                      .setVmId(vm)
                      .setHostId(1)
                      .setMmuKind(MmuKind.MMU_KIND_BOOK3S_64)
                      .setMemorySizeBytes(1 << 20)
                      .setVcpuCount(1)
                      .setOptions(MmuOptions.newBuilder().setPolicy(Policy.POLICY_STRICT))
                      .build());
        }
        List<Double> grpc = new ArrayList<>();
        List<Double> inJvm = new ArrayList<>();
        List<Double> p50a = new ArrayList<>();
        List<Double> p99a = new ArrayList<>();
        List<Double> p50e = new ArrayList<>();
        List<Double> p99e = new ArrayList<>();
        for (int r = -1; r < rounds; r++) {
          double s = streamed(ch, 1);
          double j = inJvm(server, 2);
          Histogram access = unaryAccess(ch, 3);
          Histogram echo = unaryEcho(ch);
          System.out.printf(
              "%s: streamed %,.0f accesses/s | in-JVM %,.0f accesses/s | Access p50 %d us p99 %d"
                  + " us | Echo p50 %d us p99 %d us%n",
              r < 0 ? "warm-up" : "round " + (r + 1),
              s,
              j,
              access.getValueAtPercentile(50),
              access.getValueAtPercentile(99),
              echo.getValueAtPercentile(50),
              echo.getValueAtPercentile(99));
          if (r >= 0) {
            grpc.add(s);
            inJvm.add(j);
            p50a.add((double) access.getValueAtPercentile(50));
            p99a.add((double) access.getValueAtPercentile(99));
            p50e.add((double) echo.getValueAtPercentile(50));
            p99e.add((double) echo.getValueAtPercentile(99));
          }
        }
        double sm = median(grpc);
        double jm = median(inJvm);
        System.out.printf(
            "%nmedians of %d rounds:%n  streamed through the gateway  %,.0f accesses/s%n"
                + "  the same batches in-JVM       %,.0f accesses/s%n"
                + "  streamed / in-JVM             %.2f  (aim >= 0.5: %s)%n"
                + "  unary Access p50 / p99        %.0f / %.0f us%n"
                + "  raw Echo p50 / p99            %.0f / %.0f us%n"
                + "  Access / Echo at p50 and p99  %.2f / %.2f  (aim <= 2: %s)%n",
            rounds,
            sm,
            jm,
            sm / jm,
            sm / jm >= 0.5 ? "met" : "MISSED",
            median(p50a),
            median(p99a),
            median(p50e),
            median(p99e),
            median(p50a) / median(p50e),
            median(p99a) / median(p99e),
            median(p50a) / median(p50e) <= 2 && median(p99a) / median(p99e) <= 2
                ? "met"
                : "MISSED");
      } finally {
        ch.shutdownNow();
      }
    }
  }

  static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(Double::compare);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  /** The batch every measurement uses: loads cycling over 16 pages of the guest window. */
  static long ea(int i) {
    return WINDOW + ((i % 16) << 12) + ((i / 16) % 512) * 8L;
  }

  static double streamed(ManagedChannel ch, int vm) throws Exception {
    RunWorkloadRequest.Builder b =
        RunWorkloadRequest.newBuilder().setVcpu(VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(0));
    for (int i = 0; i < BATCH; i++) {
      b.addAccesses(
          WorkloadAccess.newBuilder().setKind(AccessKind.ACCESS_KIND_LOAD).setEffectiveAddr(ea(i)));
    }
    RunWorkloadRequest proto = b.build();
    CompletableFuture<Long> done = new CompletableFuture<>();
    long[] batchIds = {System.nanoTime()};
    long[] completed = {0};
    @SuppressWarnings("unchecked")
    StreamObserver<RunWorkloadRequest>[] req = new StreamObserver[1];
    long t0 = System.nanoTime();
    req[0] =
        AccessServiceGrpc.newStub(ch)
            .runWorkload(
                new StreamObserver<>() {
                  int sent = 2;
                  boolean closed;

                  @Override
                  public void onNext(RunWorkloadResponse r) {
                    completed[0] += r.getCompleted();
                    if (sent < BATCHES) {
                      req[0].onNext(proto.toBuilder().setBatchId(batchIds[0] + sent++).build());
                    } else if (!closed) {
                      closed = true;
                      req[0].onCompleted();
                    }
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(completed[0]);
                  }
                });
    // Two batches in flight: the server's stream window (it requests the next batch as soon as
    // one is handed to the vCPU), so the vCPU never waits for the network.
    req[0].onNext(proto.toBuilder().setBatchId(batchIds[0]).build());
    req[0].onNext(proto.toBuilder().setBatchId(batchIds[0] + 1).build());
    long n = done.get(10, TimeUnit.MINUTES);
    long t1 = System.nanoTime();
    if (n != (long) BATCH * BATCHES) {
      throw new IllegalStateException("streamed: " + n + " of " + BATCH * BATCHES + " completed");
    }
    return n / ((t1 - t0) / 1e9);
  }

  static double inJvm(GatewayMain.Running server, int vm) throws Exception {
    List<Vcpu.AccessOp> ops = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      ops.add(new Vcpu.AccessOp(Access.LOAD, ea(i), 0));
    }
    List<Vcpu.AccessOp> batch = List.copyOf(ops);
    long t0 = System.nanoTime();
    long n = 0;
    for (int k = 0; k < BATCHES; k++) {
      n +=
          server
              .simulation()
              .runBatch(vm, 0, batch)
              .toCompletableFuture()
              .get(10, TimeUnit.MINUTES)
              .completed();
    }
    long t1 = System.nanoTime();
    if (n != (long) BATCH * BATCHES) {
      throw new IllegalStateException("in-JVM: " + n + " of " + BATCH * BATCHES + " completed");
    }
    return n / ((t1 - t0) / 1e9);
  }

  static Histogram unaryAccess(ManagedChannel ch, int vm) {
    AccessServiceGrpc.AccessServiceBlockingStub stub = AccessServiceGrpc.newBlockingStub(ch);
    AccessRequest req =
        AccessRequest.newBuilder()
            .setVcpu(VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(0))
            .setKind(AccessKind.ACCESS_KIND_LOAD)
            .setEffectiveAddr(WINDOW)
            .build();
    stub.access(req); // the first touch faults; the rest hit
    Histogram h = new Histogram(3);
    for (int i = 0; i < UNARY; i++) {
      long t0 = System.nanoTime();
      stub.access(req);
      h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
    }
    return h;
  }

  static Histogram unaryEcho(ManagedChannel ch) {
    EchoServiceGrpc.EchoServiceBlockingStub stub = EchoServiceGrpc.newBlockingStub(ch);
    EchoRequest req =
        EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[64])).build();
    Histogram h = new Histogram(3);
    for (int i = 0; i < UNARY; i++) {
      long t0 = System.nanoTime();
      stub.echo(req);
      h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
    }
    return h;
  }
}
