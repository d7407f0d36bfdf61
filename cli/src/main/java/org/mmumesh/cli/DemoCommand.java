package org.mmumesh.cli;

import com.typesafe.config.Config;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.mesh.MemoryBudget;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh demo}, the main job: for each policy an embedded single-node cluster with the gRPC
 * gateway on a loopback port, the built-in workload (identical guests, KSM to convergence, then a
 * read-mostly phase) driven through the gateway by the gRPC client ({@link LockstepClient}:
 * RunWorkload streams per vCPU, KSM stepped by simulated time with RunKsmBatch), then the
 * comparison table and a self-contained HTML report with SVG charts.
 *
 * <p>Each policy gets a fresh cluster so every run starts from the same state with VMs {@code 0 ..
 * n-1} (VM ids are never reused on a server); the numbers are then exactly those of {@code mmumesh
 * run} (either engine) for the same workload and options.
 *
 * <p>With {@code --nodes N} (N > 1) each policy's cluster is N node JVMs on loopback instead
 * ({@link LocalCluster}, the roles of {@code deploy/local/cluster start N}), stopped after its run,
 * and on Ctrl-C or a failure; the numbers are the same.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "The main job: the built-in workload through the gRPC gateway of an embedded cluster under",
      "legacy, fixed and strict; prints the comparison table and writes an HTML report."
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--workload",
      paramLabel = "SPEC",
      description = {
        "The workload (default: the built-in demo, ${DEFAULT-VALUE}).",
        "See `mmumesh run --help-workloads`."
      },
      defaultValue = RunCommand.DEMO_WORKLOAD)
  String workload;

  @Mixin PolicyOptions policyOptions = new PolicyOptions();

  @Mixin KsmOptions ksmOptions = new KsmOptions();

  @Option(
      names = "--html",
      paramLabel = "FILE",
      description = "The HTML report (default ${DEFAULT-VALUE}).",
      defaultValue = "mmumesh-demo.html")
  Path html;

  @Option(
      names = "--series",
      paramLabel = "FILE",
      description = "Also write the KSM time series of every policy to FILE as CSV.")
  Path series;

  @Option(
      names = "--details",
      description = "Also print every counter of every run (per-VM totals and host counters).")
  boolean details;

  @Option(
      names = "--jobs",
      paramLabel = "N",
      description = {
        "Policies run at once, each on its own embedded cluster (default: one per core, at most",
        "one per policy). The numbers do not depend on it."
      })
  Integer jobs;

  @Option(
      names = "--memory-budget",
      description = {
        "Heap each embedded gateway's VMs may take, as `serve --memory-budget`: auto (75%% of",
        "-Xmx minus the heap in use at start, shared among the clusters of --jobs) or a size",
        "like 512m, 4g for each cluster (default ${DEFAULT-VALUE})."
      },
      defaultValue = "auto")
  String memoryBudget = "auto";

  @Option(
      names = "--nodes",
      paramLabel = "N",
      description = {
        "Run each policy on a cluster of N node JVMs on loopback, started as `deploy/local/cluster",
        "start N` does (3: gateway+frames, mmu, vcpu) and stopped at the end; 1 (default) is the",
        "embedded single-node cluster in this JVM. The numbers do not depend on it (1 to 16)."
      },
      defaultValue = "1")
  int nodes = 1;

  @Option(
      names = "--progress",
      paramLabel = "auto|on|off",
      description =
          "Progress bar on standard error (default ${DEFAULT-VALUE}: when on a terminal).",
      defaultValue = "auto")
  String progress;

  /**
   * The budget of each of the {@code parallel} embedded clusters: {@code auto} is worked out once,
   * here, before any cluster starts, and shared out among them (each cluster working out its own
   * from the one heap would count the other clusters' heap as in use, and all together could claim
   * several times 75% of it); a size is taken as given, for each cluster.
   */
  static String budgetPerCluster(String memoryBudget, int parallel) {
    Config asked = ServeCommand.meshConfig(memoryBudget);
    if (!"auto".equalsIgnoreCase(memoryBudget.trim())) {
      return memoryBudget;
    }
    return Long.toString(MemoryBudget.fromConfig(asked).budgetBytes() / parallel);
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean showProgress = ProgressBar.enabled(progress);
    WorkloadSpec w = WorkloadParser.parse(workload);
    List<String> plan = LocalCluster.plan(nodes);
    GatewayMain.Settings d = GatewayMain.Settings.defaults();
    List<EngineConfig> configs = new ArrayList<>();
    for (MmuOptions o : policyOptions.resolve()) {
      configs.add(ksmOptions.apply(EngineConfig.defaults(o)));
    }
    // several JVMs per policy already share the cores: one policy at a time unless asked
    int parallel =
        jobs != null
            ? jobs
            : nodes > 1 ? 1 : Math.min(configs.size(), Runtime.getRuntime().availableProcessors());
    if (parallel < 1 || parallel > 16) {
      throw new IllegalArgumentException(
          "--jobs: " + parallel + " is out of range; allowed 1 to 16");
    }
    GatewayMain.Settings gateway =
        new GatewayMain.Settings(
            d.host(),
            d.port(),
            d.metricsPort(),
            d.drain(),
            ServeCommand.meshConfig(budgetPerCluster(memoryBudget, parallel)));
    // Initialise logging before the actor systems' threads log, so SLF4J has nothing to replay.
    org.slf4j.LoggerFactory.getILoggerFactory();
    String setup =
        (nodes == 1
                ? "gRPC client against an embedded single-node cluster's gateway (a fresh one per"
                    + " policy),"
                : "gRPC client against the gateway of a "
                    + nodes
                    + "-node cluster of separate JVMs on loopback (roles "
                    + String.join(" | ", plan)
                    + "; a fresh one per policy),")
            + " KSM stepped by simulated time over gRPC, "
            + ksmOptions.describe();
    out.println("mmumesh demo: " + w.name());
    out.println(setup);
    out.flush();
    // several bars cannot share one terminal line: lines at every quarter when runs overlap
    boolean interactive = System.console() != null && parallel == 1;
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    List<Future<RunResult>> runs = new ArrayList<>();
    try {
      for (EngineConfig c : configs) {
        PrintWriter bars = showProgress ? err : null;
        runs.add(
            pool.submit(
                () ->
                    nodes == 1
                        ? runOne(gateway, w, c, bars, interactive)
                        : runOnNodes(nodeOptions(), w, c, bars, interactive)));
      }
      List<RunResult> results = new ArrayList<>();
      for (Future<RunResult> f : runs) {
        results.add(await(f));
      }
      for (RunResult r : results) {
        r.failures().stream()
            .limit(5)
            .forEach(f -> out.println("  failed (" + r.options().describe() + "): " + f));
      }
      report(out, w, setup, results);
    } catch (RuntimeException ex) {
      StatusRuntimeException e = GrpcErrors.find(ex);
      if (e == null || !GrpcErrors.memoryBudget(e)) {
        throw ex;
      }
      // the embedded gateway's budget is derived from this JVM's heap: the heap ran out
      long max = Runtime.getRuntime().maxMemory();
      err.println(
          "mmumesh: out of memory: the embedded gateway's memory budget (--memory-budget "
              + memoryBudget
              + ", of -Xmx "
              + FatalErrors.human(max)
              + ") cannot hold the workload: "
              + e.getStatus().getDescription());
      err.println(
          "mmumesh: raise the heap through MMUMESH_JAVA_OPTS, e.g. MMUMESH_JAVA_OPTS=-Xmx"
              + FatalErrors.suggestion(max)
              + " bin/mmumesh demo ..., or run a smaller workload");
      err.flush();
      return FatalErrors.EXIT_CODE;
    } finally {
      pool.shutdownNow();
    }
    return 0;
  }

  /** The options each node JVM of {@code --nodes} gets beyond the cluster's own. */
  private List<String> nodeOptions() {
    // auto: each node works out its own budget from its own heap
    return "auto".equalsIgnoreCase(memoryBudget.trim())
        ? List.of()
        : List.of("--memory-budget", memoryBudget);
  }

  /** How long the node JVMs of one policy may take to be ready. */
  private static final java.time.Duration NODES_READY = java.time.Duration.ofMinutes(5);

  /** One policy on a fresh embedded cluster with its gateway, driven over gRPC. */
  private static RunResult runOne(
      GatewayMain.Settings settings,
      WorkloadSpec w,
      EngineConfig c,
      PrintWriter progress,
      boolean interactive) {
    String label = c.options().describe();
    try (GatewayMain.Running gw = GatewayMain.start(settings)) {
      say(progress, label + ": gateway on 127.0.0.1:" + gw.port());
      return drive(gw.port(), w, c, progress, interactive);
    }
  }

  /**
   * One policy on a fresh cluster of {@code nodes} node JVMs ({@link LocalCluster}), driven over
   * gRPC through its gateway; the nodes are stopped afterwards, whatever happened.
   */
  private RunResult runOnNodes(
      List<String> nodeOptions,
      WorkloadSpec w,
      EngineConfig c,
      PrintWriter progress,
      boolean interactive) {
    String label = c.options().describe();
    say(progress, label + ": starting " + nodes + " node JVMs");
    try (LocalCluster cluster = LocalCluster.start(nodes, nodeOptions, NODES_READY)) {
      say(
          progress,
          label
              + ": "
              + nodes
              + " nodes ready, gateway on 127.0.0.1:"
              + cluster.grpcPort()
              + ", logs in "
              + cluster.runDir());
      return drive(cluster.grpcPort(), w, c, progress, interactive);
    }
  }

  private static void say(PrintWriter progress, String line) {
    if (progress != null) {
      synchronized (progress) {
        progress.println(line);
        progress.flush();
      }
    }
  }

  /** Drives {@code w} under {@code c} through the gateway on 127.0.0.1:{@code port}. */
  private static RunResult drive(
      int port, WorkloadSpec w, EngineConfig c, PrintWriter progress, boolean interactive) {
    String label = c.options().describe();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      LockstepClient client = new LockstepClient(ch, w, c, 0);
      long total = client.expectedAccesses();
      ProgressBar bar = progress == null ? null : new ProgressBar(progress, label, interactive);
      RunResult r =
          client.run(
              bar == null
                  ? null
                  : done -> {
                    synchronized (progress) {
                      bar.update(done, total);
                    }
                  });
      if (bar != null) {
        bar.finish();
      }
      return r;
    } finally {
      ch.shutdownNow();
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static RunResult await(Future<RunResult> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private void report(PrintWriter out, WorkloadSpec w, String setup, List<RunResult> results) {
    out.println();
    RunReport.print(out, results);
    if (details) {
      RunReport.printDetails(out, results);
    }
    if (series != null) {
      RunReport.writeSeries(series, results);
      out.println("KSM time series written to " + series);
    }
    RunHtml.write(html, w.name(), setup, results);
    out.println("HTML report written to " + html);
    out.flush();
  }
}
