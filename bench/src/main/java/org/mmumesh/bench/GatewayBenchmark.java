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
import org.mmumesh.common.AccessOp;
import org.mmumesh.gateway.AccessService;
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
import org.mmumesh.proto.v1.PackedAccesses;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * Issue 5's benchmarks (not tests), in one JVM: a gateway over Netty on loopback in front of the
 * embedded single-node mesh ({@code GatewayMain.start}, the server {@code bin/mmumesh serve} runs).
 *
 * <ul>
 *   <li><b>Streaming</b>: accesses per second of a workload streamed through {@code RunWorkload} in
 *       the packed encoding (what the Java client sends), batches of {@code BATCH} accesses, two in
 *       flight (the client sends batch n+2 when result n arrives; the server holds at most two per
 *       stream), against the same batches given to the mesh in-JVM ({@code Simulation.runBatch} one
 *       after the other, no gRPC: what the gateway itself does with a stream's batches). The
 *       classic encoding (a message per access) is streamed too, for comparison. The workload
 *       cycles over 16 pages, so after the first pass every access is a TLB hit and the figure is
 *       the transport's and the vCPU's, not the fault path's. Each of the three has its own VM; a
 *       round runs in-JVM, packed, in-JVM again (the round's in-JVM figure is the mean of the two),
 *       then classic.
 *   <li><b>Unary latency</b>: p50/p99 (HdrHistogram, microseconds) of single {@code Access} calls
 *       (a load that hits the TLB, traced) against the transport-only {@code Echo} in the same
 *       server, over the same channel, the calls alternating (Access, Echo, Access, ...) so that
 *       both see the same machine.
 * </ul>
 *
 * Each round runs all of them; the first {@code warmups} rounds are printed and not counted, then
 * medians of {@code rounds} rounds (and of the per-round ratios) are reported against the aims.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar org.mmumesh.bench.GatewayBenchmark [rounds
 * [warmups [batch]]]} (or {@code bin/mmumesh-bench gateway ...}); defaults 7 rounds, 5 warm-ups,
 * batches of 4096. {@code -Dmmumesh.bench.clientDirect=false} puts the client channel back on
 * grpc's default executor (the default is {@code directExecutor}: the client's callbacks only count
 * and send).
 */
public final class GatewayBenchmark {
  /** Accesses per batch unless given. */
  static final int BATCH = 4096;

  static final int BATCHES = 256;
  static final int UNARY = 4000;
  static final long WINDOW = 0x1000_0000L;

  private GatewayBenchmark() {}

  /** One round's figures. */
  record Round(
      double packed,
      double classic,
      double inJvm,
      long accessP50,
      long accessP99,
      long echoP50,
      long echoP99) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    int warmups = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int batch = args.length > 2 ? Integer.parseInt(args[2]) : BATCH;
    boolean clientDirect =
        Boolean.parseBoolean(System.getProperty("mmumesh.bench.clientDirect", "true"));
    System.out.printf(
        "== mmumesh issue 5 benchmarks: %d processors, Java %s, load average %.2f; batches of %d"
            + " x %d per stream, "
            + AccessService.MAX_IN_FLIGHT
            + " in flight; client channel on %s%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        batch,
        BATCHES,
        clientDirect ? "directExecutor" : "the default executor");
    try (GatewayMain.Running server = GatewayMain.start(GatewayMain.Settings.defaults())) {
      NettyChannelBuilder cb =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext();
      if (clientDirect) {
        cb.directExecutor();
      }
      ManagedChannel ch = cb.build();
      try {
        HostServiceGrpc.newBlockingStub(ch)
            .createHost(
                CreateHostRequest.newBuilder()
                    .setHostId(1)
                    .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                    .setMaxFrames(4096)
                    .build());
        for (int vm = 1; vm <= 4; vm++) {
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
        RunWorkloadRequest packed = packed(batch);
        RunWorkloadRequest classic = classic(batch);
        List<Round> counted = new ArrayList<>();
        for (int r = 0; r < warmups + rounds; r++) {
          // in-JVM around the packed stream (their mean is the round's in-JVM figure), so that
          // a burst of load on the machine hits both sides of the ratio
          double j1 = inJvm(server, 2, batch);
          double p = streamed(ch, packed, batch);
          double j2 = inJvm(server, 2, batch);
          double j = (j1 + j2) / 2;
          double c = streamed(ch, classic, batch);
          Histogram[] h = unary(ch, 4);
          Round x =
              new Round(
                  p,
                  c,
                  j,
                  h[0].getValueAtPercentile(50),
                  h[0].getValueAtPercentile(99),
                  h[1].getValueAtPercentile(50),
                  h[1].getValueAtPercentile(99));
          System.out.printf(
              "%-9s streamed packed %5.2f M/s, classic %5.2f M/s | in-JVM %5.2f M/s | packed/in-JVM"
                  + " %.2f | Access p50/p99 %4d/%5d us, Echo %4d/%5d us, ratio %.2f/%.2f%n",
              r < warmups ? "warm-up" : "round " + (r - warmups + 1),
              p / 1e6,
              c / 1e6,
              j / 1e6,
              p / j,
              x.accessP50(),
              x.accessP99(),
              x.echoP50(),
              x.echoP99(),
              (double) x.accessP50() / x.echoP50(),
              (double) x.accessP99() / x.echoP99());
          if (r >= warmups) {
            counted.add(x);
          }
        }
        report(counted);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  private static void report(List<Round> rs) {
    double p = median(rs.stream().map(Round::packed).toList());
    double c = median(rs.stream().map(Round::classic).toList());
    double j = median(rs.stream().map(Round::inJvm).toList());
    double ratio = median(rs.stream().map(x -> x.packed() / x.inJvm()).toList());
    double classicRatio = median(rs.stream().map(x -> x.classic() / x.inJvm()).toList());
    double a50 = median(rs.stream().map(x -> (double) x.accessP50()).toList());
    double a99 = median(rs.stream().map(x -> (double) x.accessP99()).toList());
    double e50 = median(rs.stream().map(x -> (double) x.echoP50()).toList());
    double e99 = median(rs.stream().map(x -> (double) x.echoP99()).toList());
    double r50 = median(rs.stream().map(x -> (double) x.accessP50() / x.echoP50()).toList());
    double r99 = median(rs.stream().map(x -> (double) x.accessP99() / x.echoP99()).toList());
    System.out.printf(
        "%nmedians of %d rounds (ratios: medians of the per-round ratios):%n"
            + "  streamed, packed encoding      %,.0f accesses/s%n"
            + "  streamed, classic encoding     %,.0f accesses/s%n"
            + "  the same batches in-JVM        %,.0f accesses/s%n"
            + "  packed / in-JVM                %.2f  (aim >= 0.5: %s); classic / in-JVM %.2f%n"
            + "  unary Access p50 / p99         %.0f / %.0f us%n"
            + "  raw Echo p50 / p99             %.0f / %.0f us%n"
            + "  Access / Echo at p50 and p99   %.2f / %.2f  (aim <= 2: %s)%n",
        rs.size(),
        p,
        c,
        j,
        ratio,
        ratio >= 0.5 ? "met" : "MISSED",
        classicRatio,
        a50,
        a99,
        e50,
        e99,
        r50,
        r99,
        r50 <= 2 && r99 <= 2 ? "met" : r50 <= 2 ? "met at p50, MISSED at p99" : "MISSED");
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

  /** The batch in the packed encoding (as {@code WorkloadBatches} in the cli builds it). */
  static RunWorkloadRequest packed(int batch) {
    byte[] kinds = new byte[batch];
    PackedAccesses.Builder p = PackedAccesses.newBuilder();
    for (int i = 0; i < batch; i++) {
      kinds[i] = (byte) AccessKind.ACCESS_KIND_LOAD_VALUE;
      p.addEffectiveAddrs(ea(i));
    }
    p.setKinds(ByteString.copyFrom(kinds));
    // results without counters: the client reads them once at the end (GetVmStats)
    return RunWorkloadRequest.newBuilder().setPacked(p).setOmitCounters(true).build();
  }

  /** The batch in the classic encoding (a message per access). */
  static RunWorkloadRequest classic(int batch) {
    RunWorkloadRequest.Builder b = RunWorkloadRequest.newBuilder().setOmitCounters(true);
    for (int i = 0; i < batch; i++) {
      b.addAccesses(
          WorkloadAccess.newBuilder().setKind(AccessKind.ACCESS_KIND_LOAD).setEffectiveAddr(ea(i)));
    }
    return b.build();
  }

  /** Streams {@link #BATCHES} copies of {@code proto} to vm 1 (packed) or 3 (classic). */
  static double streamed(ManagedChannel ch, RunWorkloadRequest proto, int batch) throws Exception {
    int vm = proto.hasPacked() ? 1 : 3;
    VcpuRef vcpu = VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(0).build();
    CompletableFuture<Long> done = new CompletableFuture<>();
    long firstId = System.nanoTime();
    long[] completed = {0};
    // The request side is not thread-safe and a result can arrive before the main thread sent the
    // second batch: every send happens under this lock, so batch ids go out in increasing order.
    Object lock = new Object();
    int[] sent = {0};
    @SuppressWarnings("unchecked")
    StreamObserver<RunWorkloadRequest>[] req = new StreamObserver[1];
    Runnable sendNext =
        () -> {
          synchronized (lock) {
            if (sent[0] < BATCHES) {
              RunWorkloadRequest.Builder b = proto.toBuilder().setBatchId(firstId + sent[0]);
              if (sent[0] == 0) {
                b.setVcpu(vcpu);
              }
              sent[0]++;
              req[0].onNext(b.build());
              if (sent[0] == BATCHES) {
                req[0].onCompleted();
              }
            }
          }
        };
    long t0 = System.nanoTime();
    synchronized (lock) {
      req[0] =
          AccessServiceGrpc.newStub(ch)
              .runWorkload(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(RunWorkloadResponse r) {
                      completed[0] += r.getCompleted();
                      sendNext.run();
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
    }
    // AccessService.MAX_IN_FLIGHT batches in flight (the server's stream window); from then on one
    // per result.
    for (int i = 0; i < AccessService.MAX_IN_FLIGHT; i++) {
      sendNext.run();
    }
    long n = done.get(10, TimeUnit.MINUTES);
    long t1 = System.nanoTime();
    if (n != (long) batch * BATCHES) {
      throw new IllegalStateException("streamed: " + n + " of " + batch * BATCHES + " completed");
    }
    return n / ((t1 - t0) / 1e9);
  }

  /** The same batches, one after the other, through the in-JVM {@code Simulation}. */
  static double inJvm(GatewayMain.Running server, int vm, int batch) throws Exception {
    List<AccessOp> ops = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      ops.add(new AccessOp(Access.LOAD, ea(i), 0));
    }
    List<AccessOp> list = List.copyOf(ops);
    long t0 = System.nanoTime();
    long n = 0;
    for (int k = 0; k < BATCHES; k++) {
      n +=
          server
              .simulation()
              .runBatch(vm, 0, list)
              .toCompletableFuture()
              .get(10, TimeUnit.MINUTES)
              .completed();
    }
    long t1 = System.nanoTime();
    if (n != (long) batch * BATCHES) {
      throw new IllegalStateException("in-JVM: " + n + " of " + batch * BATCHES + " completed");
    }
    return n / ((t1 - t0) / 1e9);
  }

  /** Alternating unary Access (vm {@code vm}, a TLB hit) and Echo calls: their histograms. */
  static Histogram[] unary(ManagedChannel ch, int vm) {
    AccessServiceGrpc.AccessServiceBlockingStub access = AccessServiceGrpc.newBlockingStub(ch);
    EchoServiceGrpc.EchoServiceBlockingStub echo = EchoServiceGrpc.newBlockingStub(ch);
    AccessRequest req =
        AccessRequest.newBuilder()
            .setVcpu(VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(0))
            .setKind(AccessKind.ACCESS_KIND_LOAD)
            .setEffectiveAddr(WINDOW)
            .build();
    EchoRequest ping =
        EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[64])).build();
    access.access(req); // the first touch faults; the rest hit
    Histogram a = new Histogram(3);
    Histogram e = new Histogram(3);
    for (int i = 0; i < UNARY; i++) {
      long t0 = System.nanoTime();
      access.access(req);
      long t1 = System.nanoTime();
      echo.echo(ping);
      long t2 = System.nanoTime();
      a.recordValue(Math.max(1, (t1 - t0) / 1000));
      e.recordValue(Math.max(1, (t2 - t1) / 1000));
    }
    return new Histogram[] {a, e};
  }
}
