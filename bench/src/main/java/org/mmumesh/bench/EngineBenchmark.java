package org.mmumesh.bench;

import java.util.concurrent.TimeUnit;
import org.mmumesh.common.Counter;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the {@link SequentialEngine}'s access loop (issue 3's performance targets), single
 * thread, with the harness baselines measured in the same run so figures can be given as ratios.
 *
 * <p><b>Model.</b> {@link SequentialEngine#run} runs a workload to its end and cannot be rewound,
 * so every invocation gets a fresh engine built by a {@code Level.Invocation} setup (not timed: JMH
 * timestamps each invocation) and runs one whole workload; an invocation is hundreds of
 * milliseconds, so the per-invocation timestamping is negligible. The primary score is accesses per
 * second ({@code @OperationsPerInvocation} = the workload's accesses). The {@link Counts} auxiliary
 * counters turn the run's {@link RunResult} totals into per-second rates over the same measured
 * time: {@code tlbHits}, {@code htabHits}, {@code faults} (NOHPTE_EXITS + PROTFAULT_EXITS, the
 * exits KVM's page-fault path handles) and {@code accesses}; their ratios (e.g. tlbHits / accesses)
 * are the honest composition of each figure.
 *
 * <ul>
 *   <li>{@link #engineTlbHitLoop}: one vCPU, read-only uniform accesses over a working set of
 *       {@value #TLB_WS} pages (it fits the 64-entry direct-mapped vCPU TLB with few conflicts),
 *       {@value #TLB_ACCESSES} accesses: after its first few faults nearly every access is a TLB
 *       hit.
 *   <li>{@link #engineFaultLoop}: one vCPU, uniform loads and stores (80 % loads) over {@value
 *       #FAULT_PAGES} zeroed pages, {@value #FAULT_ACCESSES} accesses, so about 88 % of accesses
 *       touch a page for the first time: each such access takes a NOHPTE exit reflected to the
 *       guest (which demand maps the page) and a second NOHPTE exit that KVM maps; revisited pages
 *       hit the host HTAB.
 *   <li>{@link #baselineBatchSum}: the harness alone, a loop over a filled 256-entry {@link
 *       AccessBatch} (the engine's batch size) reading kind, EA and value through the accessors and
 *       summing them, {@value #TLB_ACCESSES} accesses per invocation.
 *   <li>{@link #baselineSourceSum}: the workload generator plus that loop: the {@link
 *       #engineTlbHitLoop} workload's {@link AccessSource} filling the batch until it is done,
 *       summed the same way. This is the part of the engine's loop that is not the simulator.
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EngineBenchmark {
  static final int TLB_WS = 16;
  static final int TLB_ACCESSES = 4_000_000;
  static final int FAULT_PAGES = 1 << 20;
  static final int FAULT_ACCESSES = 1 << 18;
  static final int BATCH = 256;

  /** Read-only accesses over a 16-page working set of one identical guest. */
  static final String TLB_WORKLOAD =
      "identical:vms=1,vcpus=1,pages=1024,ws="
          + TLB_WS
          + ",read=1,locality=uniform,accesses="
          + TLB_ACCESSES
          + ",seed=1";

  /** Uniform loads/stores over 1 Mi zeroed pages, a quarter as many accesses as pages. */
  static final String FAULT_WORKLOAD =
      "uniform:vms=1,vcpus=1,pages=" + FAULT_PAGES + ",read=0.8,accesses=" + FAULT_ACCESSES;

  static EngineConfig config() {
    return EngineConfig.defaults(MmuOptions.defaults(Policy.FIXED));
  }

  /**
   * Per-second rates of the runs' totals over the iteration's measured time (JMH zeroes the public
   * fields before each iteration).
   */
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  @State(Scope.Thread)
  public static class Counts {
    public long accesses;
    public long tlbHits;
    public long htabHits;
    public long faults;

    private long allAccesses;
    private long allTlbHits;
    private long allFaults;

    void add(RunResult r) {
      if (!r.failures().isEmpty()) {
        throw new IllegalStateException("benchmark run had failed accesses: " + r.failures());
      }
      long a = r.totals().get(Counter.ACCESSES);
      long t = r.totals().get(Counter.TLB_HITS);
      long f = r.totals().get(Counter.NOHPTE_EXITS) + r.totals().get(Counter.PROTFAULT_EXITS);
      accesses += a;
      tlbHits += t;
      htabHits += r.totals().get(Counter.HTAB_HITS);
      faults += f;
      allAccesses += a;
      allTlbHits += t;
      allFaults += f;
    }

    /** Printed to the benchmark's output: the composition over every invocation of the trial. */
    @TearDown(Level.Trial)
    public void report() {
      if (allAccesses > 0) {
        System.out.printf(
            "%n[counts] accesses=%d tlbHits=%d (%.5f of accesses) faults=%d (%.4f per access)%n",
            allAccesses,
            allTlbHits,
            allTlbHits / (double) allAccesses,
            allFaults,
            allFaults / (double) allAccesses);
      }
    }
  }

  /** A fresh engine per invocation for the TLB-hit workload. */
  @State(Scope.Thread)
  public static class TlbEngine {
    WorkloadSpec spec;
    SequentialEngine engine;

    @Setup(Level.Trial)
    public void parse() {
      spec = WorkloadParser.parse(TLB_WORKLOAD);
    }

    @Setup(Level.Invocation)
    public void build() {
      engine = new SequentialEngine(spec, config());
    }
  }

  /** A fresh engine per invocation for the fault workload. */
  @State(Scope.Thread)
  public static class FaultEngine {
    WorkloadSpec spec;
    SequentialEngine engine;

    @Setup(Level.Trial)
    public void parse() {
      spec = WorkloadParser.parse(FAULT_WORKLOAD);
    }

    @Setup(Level.Invocation)
    public void build() {
      engine = null; // let the previous engine go before building the next
      engine = new SequentialEngine(spec, config());
    }
  }

  /** A filled batch of the TLB workload's first accesses. */
  @State(Scope.Thread)
  public static class FilledBatch {
    WorkloadSpec spec;
    AccessBatch batch;

    @Setup(Level.Trial)
    public void fill() {
      spec = WorkloadParser.parse(TLB_WORKLOAD);
      batch = new AccessBatch(BATCH);
      if (spec.sourceFor(0, 0).fill(batch) != BATCH) {
        throw new IllegalStateException("benchmark setup is wrong: the batch is not full");
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(TLB_ACCESSES)
  public long engineTlbHitLoop(TlbEngine s, Counts c) {
    RunResult r = s.engine.run(null);
    c.add(r);
    return r.loadDigest();
  }

  @Benchmark
  @OperationsPerInvocation(FAULT_ACCESSES)
  public long engineFaultLoop(FaultEngine s, Counts c) {
    RunResult r = s.engine.run(null);
    c.add(r);
    return r.loadDigest();
  }

  @Benchmark
  @OperationsPerInvocation(TLB_ACCESSES)
  public long baselineBatchSum(FilledBatch s) {
    AccessBatch b = s.batch;
    long sum = 0;
    for (int round = 0; round < TLB_ACCESSES / BATCH; round++) {
      for (int i = 0, n = b.size(); i < n; i++) {
        sum += b.kindOrdinal(i) + b.ea(i) + b.value(i);
      }
    }
    return sum;
  }

  @Benchmark
  @OperationsPerInvocation(TLB_ACCESSES)
  public long baselineSourceSum(FilledBatch s) {
    AccessSource src = s.spec.sourceFor(0, 0);
    AccessBatch b = s.batch;
    long sum = 0;
    while (src.fill(b) > 0) {
      for (int i = 0, n = b.size(); i < n; i++) {
        sum += b.kindOrdinal(i) + b.ea(i) + b.value(i);
      }
    }
    return sum;
  }
}
