package org.mmumesh.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.mesh.MeshEngine;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * What {@code --check-invariants} costs (issue 10, item 6: at most 2x): for each workload and
 * engine, the run {@code bin/mmumesh run --engine E --workload W} makes (the three policies, the
 * CLI's KSM defaults: {@code pages_to_scan} 1000, {@code sleep_millisecs} 20, 2 warm-up passes, a
 * sample every 5 ms) is timed without and with the checks, alternately in this one JVM, and the
 * ratio printed, of wall time and of process CPU time (all threads, GC included: the robust one on
 * a shared, loaded machine). Each pair is repeated {@code --repeats} times (default 1) after
 * unmeasured warm-up runs (without checks; on the sequential engine also with them); the table
 * shows the medians. Both runs must agree on every result but the check count (else it stops): the
 * checks observe, they never change the simulation.
 *
 * <pre>
 * bin/mmumesh-bench invariants [--engines sequential,actors] [--repeats N] [WORKLOAD ...]
 * </pre>
 *
 * <p>Without workloads it runs {@code identical}; {@code bin/mmumesh-bench invariants} without
 * arguments (the script) also builds an {@code image:} workload from real shared libraries and a
 * {@code lackey:} trace from Valgrind, as the issue asks.
 */
public final class InvariantBenchmark {
  private InvariantBenchmark() {}

  /** One measured run: wall and CPU nanoseconds, and its results. */
  private record Timed(long wallNanos, long cpuNanos, List<RunResult> results) {}

  public static void main(String[] args) {
    List<String> engines = List.of("sequential", "actors");
    int repeats = 1;
    List<String> workloads = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--engines" -> engines = List.of(args[++i].split(","));
        case "--repeats" -> repeats = Integer.parseInt(args[++i]);
        default -> workloads.add(args[i]);
      }
    }
    if (workloads.isEmpty()) {
      workloads.add("identical");
    }
    List<String> table = new ArrayList<>();
    for (String w : workloads) {
      WorkloadSpec spec = WorkloadParser.parse(w);
      for (String engine : engines) {
        System.out.printf("== %s, engine %s%n", w, engine);
        run(spec, engine, false); // warm-up (the JIT), both ways on the fast engine
        if (engine.equals("sequential")) {
          run(spec, engine, true);
        }
        List<Long> offWall = new ArrayList<>();
        List<Long> onWall = new ArrayList<>();
        List<Long> offCpu = new ArrayList<>();
        List<Long> onCpu = new ArrayList<>();
        long checks = 0;
        for (int r = 0; r < repeats; r++) {
          Timed off = run(spec, engine, false);
          Timed on = run(spec, engine, true);
          sameResults(off.results(), on.results());
          checks = on.results().stream().mapToLong(RunResult::invariantChecks).sum();
          offWall.add(off.wallNanos());
          onWall.add(on.wallNanos());
          offCpu.add(off.cpuNanos());
          onCpu.add(on.cpuNanos());
          System.out.printf(
              "  repeat %d: off %.2f s wall %.2f s cpu, on %.2f s wall %.2f s cpu%n",
              r + 1,
              off.wallNanos() / 1e9,
              off.cpuNanos() / 1e9,
              on.wallNanos() / 1e9,
              on.cpuNanos() / 1e9);
        }
        table.add(
            String.format(
                "%-52s %-10s %8.2f %8.2f %6.2fx %8.2f %8.2f %6.2fx %,12d",
                shorten(w),
                engine,
                median(offWall) / 1e9,
                median(onWall) / 1e9,
                (double) median(onWall) / median(offWall),
                median(offCpu) / 1e9,
                median(onCpu) / 1e9,
                (double) median(onCpu) / median(offCpu),
                checks));
      }
    }
    System.out.println();
    System.out.printf(
        "%-52s %-10s %8s %8s %7s %8s %8s %7s %12s%n",
        "workload (3 policies)",
        "engine",
        "wall off",
        "wall on",
        "ratio",
        "cpu off",
        "cpu on",
        "ratio",
        "checks");
    table.forEach(System.out::println);
  }

  private static String shorten(String w) {
    return w.length() <= 52 ? w : "..." + w.substring(w.length() - 49);
  }

  private static long median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  private static Timed run(WorkloadSpec spec, String engine, boolean check) {
    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    List<RunResult> results = new ArrayList<>();
    for (Policy p : Policy.values()) {
      EngineConfig cfg =
          EngineConfig.defaults(MmuOptions.defaults(p))
              .withKsm(1000, 20, 2)
              .withSampleInterval(5_000_000L)
              .withInvariants(check);
      results.add(
          switch (engine) {
            case "sequential" -> new SequentialEngine(spec, cfg).run(null);
            case "actors" -> MeshEngine.run(spec, cfg).runResult();
            default ->
                throw new IllegalArgumentException(
                    "--engines: '" + engine + "' is not an engine; allowed: sequential, actors");
          });
    }
    return new Timed(System.nanoTime() - t0, processCpuNanos() - cpu0, results);
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** Stops the benchmark if the checks changed any result (they must only observe). */
  private static void sameResults(List<RunResult> off, List<RunResult> on) {
    for (int i = 0; i < off.size(); i++) {
      RunResult a = off.get(i);
      RunResult b = on.get(i);
      if (!a.totals().toMap().equals(b.totals().toMap())
          || a.simNanos() != b.simNanos()
          || !a.host().equals(b.host())
          || !a.samples().equals(b.samples())) {
        throw new IllegalStateException(
            "the run with --check-invariants differs from the run without: "
                + a.options().describe());
      }
    }
  }
}
