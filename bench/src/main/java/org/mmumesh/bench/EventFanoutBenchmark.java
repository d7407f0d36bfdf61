package org.mmumesh.bench;

import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.mesh.EventFeed;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * Issue 10's event fan-out benchmark (not a test): what unread event watchers cost a fault
 * workload. A gateway on loopback over the embedded single-node mesh ({@code GatewayMain.start},
 * what {@code bin/mmumesh serve} runs); each run creates a fresh host and a 64-bit VM of {@code
 * PAGES} pages and runs one load per page (every access a first touch: a NOHPTE fault and a host
 * map, each published as an event) through the in-JVM simulation in batches of 4096, timed from the
 * first batch to the last result. Each round runs the workload with no watcher, then opens {@code
 * N} {@code WatchEvents} streams (every kind, no filter) whose client never asks for a message
 * (flow control: {@code disableAutoRequestWithInitial(0)}), runs it twice more and cancels them.
 * The first run with the watchers pays the one-time filling of their transport buffers (the
 * client's HTTP/2 window and each stream's ready threshold: a bounded number of bytes per watcher,
 * whatever the workload's length), reported apart; the second is the steady state, where an unread
 * watcher costs only what each further event costs it. The round's ratio is (steady time with N) /
 * (time with none). Warm-up rounds are printed and not counted. Reported: the median of the rounds'
 * ratios and the ratio of the best (shortest) time of each side, of wall-clock time and of the
 * process's CPU time (all threads: the simulation, gRPC, the client); on a machine loaded by other
 * work the best-of ratio and the CPU times are the least disturbed, and the aim (at most 1.10) is
 * checked on the best-of wall-clock ratio. The heap held per unread watcher is the used heap after
 * a full GC with the watchers open minus after they closed, over N (a rough figure: one GC each).
 *
 * <p>Usage: {@code bin/mmumesh-bench events [N [ROUNDS [WARMUPS [PAGES]]]]}; defaults: N = the
 * node's watcher cap ({@link EventFeed#DEFAULT_MAX_WATCHERS}), 5 rounds, 2 warm-ups, 16384 pages.
 * An N above the default cap is served by raising the cap ({@value EventFeed#MAX_WATCHERS_PATH}) to
 * N for the run.
 */
public final class EventFanoutBenchmark {
  private EventFanoutBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : EventFeed.DEFAULT_MAX_WATCHERS;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int warmups = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    int pages = args.length > 3 ? Integer.parseInt(args[3]) : 16384;
    System.out.printf(
        "== mmumesh issue 10 event fan-out: %d processors, Java %s, load average %.2f, -Xmx %d MiB;"
            + " %d unread watchers (cap %d), %d faults per run%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        Runtime.getRuntime().maxMemory() >> 20,
        n,
        Math.max(n, EventFeed.DEFAULT_MAX_WATCHERS),
        pages);
    GatewayMain.Settings d = GatewayMain.Settings.defaults();
    GatewayMain.Settings s =
        new GatewayMain.Settings(
            d.host(),
            d.port(),
            d.metricsPort(),
            d.drain(),
            ConfigFactory.parseMap(
                    Map.of(
                        EventFeed.MAX_WATCHERS_PATH, Math.max(n, EventFeed.DEFAULT_MAX_WATCHERS)))
                .withFallback(d.mesh()));
    try (GatewayMain.Running server = GatewayMain.start(s)) {
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      EventFeed feed =
          EventFeed.forNode(server.simulation().members().toCompletableFuture().get().selfAddress())
              .orElseThrow();
      List<Timing> none = new ArrayList<>();
      List<Timing> first = new ArrayList<>();
      List<Timing> with = new ArrayList<>();
      int host = 0;
      try {
        for (int r = 0; r < warmups + rounds; r++) {
          Timing t0 = run(server, ch, ++host, pages);
          List<ClientCallStreamObserver<WatchEventsRequest>> watchers = open(ch, n);
          awaitWatchers(feed, n);
          Timing t1 = run(server, ch, ++host, pages);
          Timing t2 = run(server, ch, ++host, pages);
          long heldWith = usedAfterGc();
          for (ClientCallStreamObserver<WatchEventsRequest> w : watchers) {
            w.cancel("benchmark round over", null);
          }
          awaitWatchers(feed, 0);
          long heldWithout = usedAfterGc();
          System.out.printf(
              "%-9s no watcher %6.0f ms (cpu %6.0f) | %d unread: first run %6.0f ms (cpu %6.0f),"
                  + " then %6.0f ms (cpu %6.0f) | ratio %.2f (cpu %.2f) | heap per watcher ~%,d"
                  + " bytes%n",
              r < warmups ? "warm-up" : "round " + (r - warmups + 1),
              t0.wallMs(),
              t0.cpuMs(),
              n,
              t1.wallMs(),
              t1.cpuMs(),
              t2.wallMs(),
              t2.cpuMs(),
              t2.wallMs() / t0.wallMs(),
              t2.cpuMs() / t0.cpuMs(),
              (heldWith - heldWithout) / Math.max(1, n));
          if (r >= warmups) {
            none.add(t0);
            first.add(t1);
            with.add(t2);
          }
        }
      } finally {
        ch.shutdownNow();
      }
      double medianWall = medianRatio(with, none, Timing::wallMs);
      double bestWall = best(with, Timing::wallMs) / best(none, Timing::wallMs);
      double bestCpu = best(with, Timing::cpuMs) / best(none, Timing::cpuMs);
      System.out.printf(
          "%nwith %d unread watchers / with none, %d rounds:%n"
              + "  wall time: median of the rounds' ratios %.3f, best of each side %.3f%n"
              + "  process CPU time: median of the rounds' ratios %.3f, best of each side %.3f%n"
              + "  aim <= 1.10 (best-of wall time, the least disturbed by other load): %s%n"
              + "  the first run after the watchers opened (their transport buffers filling):"
              + " best-of ratio %.3f wall, %.3f cpu%n",
          n,
          with.size(),
          medianWall,
          bestWall,
          medianRatio(with, none, Timing::cpuMs),
          bestCpu,
          bestWall <= 1.10 ? "met" : "MISSED",
          best(first, Timing::wallMs) / best(none, Timing::wallMs),
          best(first, Timing::cpuMs) / best(none, Timing::cpuMs));
    }
  }

  /** One run's wall-clock and process CPU time, milliseconds. */
  record Timing(double wallMs, double cpuMs) {}

  static double medianRatio(
      List<Timing> a, List<Timing> b, java.util.function.ToDoubleFunction<Timing> f) {
    List<Double> r = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      r.add(f.applyAsDouble(a.get(i)) / f.applyAsDouble(b.get(i)));
    }
    return GatewayBenchmark.median(r);
  }

  static double best(List<Timing> xs, java.util.function.ToDoubleFunction<Timing> f) {
    return xs.stream().mapToDouble(f).min().orElseThrow();
  }

  /** A fresh host and VM {@code id}; one load per page; the times. */
  static Timing run(GatewayMain.Running server, ManagedChannel ch, int id, int pages)
      throws Exception {
    HostServiceGrpc.newBlockingStub(ch)
        .createHost(
            CreateHostRequest.newBuilder()
                .setHostId(id)
                .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                .setMaxFrames(pages + 1024L)
                .build());
    VmServiceGrpc.newBlockingStub(ch)
        .createVm(
            CreateVmRequest.newBuilder()
                .setVmId(id)
                .setHostId(id)
                .setMmuKind(MmuKind.MMU_KIND_BOOK3S_64)
                .setMemorySizeBytes((long) pages << 12)
                .setVcpuCount(1)
                .setOptions(MmuOptions.newBuilder().setPolicy(Policy.POLICY_STRICT))
                .build());
    List<List<AccessOp>> batches = new ArrayList<>();
    for (int first = 0; first < pages; first += 4096) {
      List<AccessOp> ops = new ArrayList<>();
      for (int p = first; p < Math.min(pages, first + 4096); p++) {
        ops.add(new AccessOp(Access.LOAD, GatewayBenchmark.WINDOW + ((long) p << 12), 0));
      }
      batches.add(List.copyOf(ops));
    }
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long c0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    long done = 0;
    for (List<AccessOp> b : batches) {
      var result =
          server.simulation().runBatch(id, 0, b).toCompletableFuture().get(10, TimeUnit.MINUTES);
      done += result.completed() + result.failed();
    }
    long t1 = System.nanoTime();
    long c1 = os.getProcessCpuTime();
    if (done != pages) {
      throw new IllegalStateException("run: " + done + " of " + pages + " accesses answered");
    }
    return new Timing((t1 - t0) / 1e6, (c1 - c0) / 1e6);
  }

  /** {@code n} watch streams that never ask for a message. */
  static List<ClientCallStreamObserver<WatchEventsRequest>> open(ManagedChannel ch, int n) {
    List<ClientCallStreamObserver<WatchEventsRequest>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      EventServiceGrpc.newStub(ch)
          .watchEvents(
              WatchEventsRequest.getDefaultInstance(),
              new ClientResponseObserver<WatchEventsRequest, WatchEventsResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> call) {
                  call.disableAutoRequestWithInitial(0);
                  out.add(call);
                }

                @Override
                public void onNext(WatchEventsResponse value) {}

                @Override
                public void onError(Throwable t) {
                  Status st = Status.fromThrowable(t);
                  if (st.getCode() != Status.Code.CANCELLED) {
                    System.out.println("watcher ended: " + st);
                  }
                }

                @Override
                public void onCompleted() {}
              });
    }
    return out;
  }

  /**
   * Waits (up to a minute) until the node's feed has exactly {@code n} watchers and, if any, its
   * bus is active (the watchers are attached: events reach them).
   */
  static void awaitWatchers(EventFeed feed, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (feed.watchers() != n || (n > 0 && !feed.bus().active())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the feed has " + feed.watchers() + " watchers, not " + n);
      }
      Thread.sleep(10);
    }
  }

  static long usedAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
