package org.mmumesh.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;
import org.mmumesh.common.Counter;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.mesh.MeshEngine;
import org.mmumesh.mesh.MeshResult;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Issue 4's benchmarks (not tests), in one JVM run: a raw Pekko baseline, the actor mesh's faults
 * per second and TLB-hit accesses per second, and the sequential engine on the same two workloads,
 * with the ratios the issue asks for (mesh faults / raw chains at least 0.5; mesh hit accesses /
 * sequential hit accesses at least 0.5). Run it with {@code bin/mmumesh-bench mesh}.
 *
 * <h2>What is measured</h2>
 *
 * <ul>
 *   <li><b>raw</b>: {@link RawChainBaseline}, completed chains per second, one chain per client at
 *       a time, {@code vms * vcpus} clients (the mesh's concurrency).
 *   <li><b>fault workload</b>: {@code uniform} loads ({@code read=1}) over {@link
 *       Settings#faultPages} zeroed pages per VM: nearly every access touches its page for the
 *       first time, and a first touch takes two NOHPTE exits (the first reflected to the guest,
 *       which demand-maps the page, the second mapped by KVM). Reported: faults per second, faults
 *       being {@code NOHPTE_EXITS + PROTFAULT_EXITS} from the run's counters.
 *   <li><b>hit workload</b>: {@code identical} guests, read-only uniform accesses over a working
 *       set of {@value #HIT_WS} pages (it fits the 64-entry TLB): nearly every access is a TLB hit;
 *       the mesh sends them in {@code RunBatch}es of {@link MeshEngine#BATCH} accesses. Reported:
 *       accesses per second.
 * </ul>
 *
 * <h2>How the time is taken</h2>
 *
 * {@link MeshEngine#run} starts a local actor system per run, sets the VMs up, drives the workload,
 * reads every frame and the guest HTABs back and terminates. So each mesh figure is a
 * <em>marginal</em> rate: the workload is run with {@code N} and with {@code 4N} ({@value
 * #LONG_FACTOR}) accesses per vCPU (the same seed, so the short run is a prefix of the long one)
 * and the rate is (counter in the long run - counter in the short run) / (time of the long run -
 * time of the short run); the fixed costs cancel. A mesh run is timed from its actor system's start
 * to the start of its termination ({@link ShutdownClock}; see {@link #mesh}), and the whole call is
 * reported too. The sequential engine has no fixed cost in its timed span (only {@code run()} is
 * timed; the engine is built untimed), so it is timed on the long run alone ({@link #longRunOnly}):
 * one measurement instead of a difference of two, much less noisy on a loaded machine; faults per
 * second normalise the small difference in composition (the long run's first quarter has a few more
 * first touches per access). KSM is off in the mesh (not wired yet) and made inert in the
 * sequential engine ({@code withKsm(1, 60000, 0)}: no warm-up passes, one page per simulated
 * minute), so neither pays for it. The fault workload has 512 Ki pages per VM: {@code MeshEngine}
 * reads every frame back with one {@code ReadFrames}, which refuses more than 1 Mi frames (guest
 * pages plus the HTAB's).
 *
 * <h2>The hop count of a fault</h2>
 *
 * Read from {@code Vcpu}: a first touch costs the vCPU these request/reply pairs: {@code
 * HostMmu.Lookup} (miss: NOHPTE exit 1), {@code GuestMmu.Xlate} (not found), {@code
 * GuestMmu.HandleException} (the reflected DSI; the guest demand-maps), then {@code Lookup} (miss:
 * exit 2), {@code Xlate}, {@code PageFrame.GfnToPfnProt}, {@code HostMmu.MapPage}, the one-way
 * {@code PageFrame.ReleaseLease}, and {@code Lookup} (hit, fills the TLB): 8 pairs and 1 one-way
 * message for 2 faults, i.e. <b>4 request/reply pairs and 0.5 one-way messages per fault</b>. The
 * raw chain is the mapped fault's shape, 4 pairs and 1 one-way message ({@link RawChainBaseline}),
 * so one chain is compared with one fault. The run also prints the pairs per fault that the mesh's
 * counters imply, to check the count on the measured workload.
 *
 * <p>Each measurement runs {@link Settings#warmups} times untimed, then {@link Settings#iterations}
 * times; the table gives the median, min and max, and the ratios of medians. The measurements are
 * interleaved (one of each per iteration) so that machine noise hits all of them alike.
 */
public final class MeshBenchmark {

  /** The hit workload's working set in pages. */
  public static final int HIT_WS = 16;

  /** The long run of a {@link Marginal} has this many times the short run's accesses. */
  public static final int LONG_FACTOR = 4;

  private MeshBenchmark() {}

  /**
   * The sizes of one benchmark run.
   *
   * @param vms VMs of both workloads
   * @param vcpus vCPUs per VM (also raw clients per VM)
   * @param faultPages guest pages per VM of the fault workload
   * @param faultAccesses accesses per vCPU of the short fault run (the long one has {@value
   *     #LONG_FACTOR} times as many)
   * @param hitAccesses accesses per vCPU of the short hit run
   * @param rawChains chains per client of one raw run
   * @param warmups untimed rounds
   * @param iterations timed rounds
   */
  public record Settings(
      int vms,
      int vcpus,
      long faultPages,
      long faultAccesses,
      long hitAccesses,
      long rawChains,
      int warmups,
      int iterations) {

    /** The default sizes: about 3-4 minutes on 2 cores. */
    public static Settings standard() {
      return new Settings(1, 2, 1 << 19, 32_768, 2_000_000, 200_000, 1, 5);
    }

    /** Small sizes for a smoke run (figures are noisy). */
    public static Settings quick() {
      return new Settings(1, 2, 1 << 18, 8_192, 250_000, 50_000, 1, 3);
    }
  }

  /**
   * One timed engine run.
   *
   * @param nanos the timed span: for the mesh, from its actor system's start to the start of its
   *     termination ({@link ShutdownClock}); for the sequential engine, {@code run()}
   * @param wholeNanos the whole call, actor system start-up and shutdown included (the sequential
   *     engine: the same as {@code nanos})
   * @param gcMillis garbage-collection time during the whole call (every collector, as the JVM's
   *     {@code GarbageCollectorMXBean}s count it)
   * @param completed accesses completed
   * @param failed accesses failed
   * @param counters the counters summed over every vCPU, by {@code Counts} / {@link Counter} name
   */
  public record Run(
      long nanos,
      long wholeNanos,
      long gcMillis,
      long completed,
      long failed,
      Map<String, Long> counters) {
    /** A counter, 0 when absent. */
    public long get(String name) {
      return counters.getOrDefault(name, 0L);
    }

    /** {@code NOHPTE_EXITS + PROTFAULT_EXITS}: the exits KVM's page-fault path handles. */
    public long faults() {
      return get("NOHPTE_EXITS") + get("PROTFAULT_EXITS");
    }
  }

  /** A short and a long run of the same workload: the marginal rates of the long run's rest. */
  public record Marginal(Run small, Run big) {
    /** Seconds of the long run beyond the short one. */
    public double seconds() {
      return (big.nanos() - small.nanos()) / 1e9;
    }

    /** Accesses completed per second, marginal. */
    public double accessesPerSecond() {
      return (big.completed() - small.completed()) / seconds();
    }

    /** Faults per second, marginal. */
    public double faultsPerSecond() {
      return (big.faults() - small.faults()) / seconds();
    }

    /** Garbage-collection seconds of the long run beyond the short one. */
    public double gcSeconds() {
      return (big.gcMillis() - small.gcMillis()) / 1e3;
    }

    /** Seconds of the long run beyond the short one, whole calls. */
    public double wholeSeconds() {
      return (big.wholeNanos() - small.wholeNanos()) / 1e9;
    }

    /** A counter of the long run minus the short run's. */
    public long delta(String name) {
      return big.get(name) - small.get(name);
    }
  }

  /** The fault workload with {@code accesses} accesses per vCPU. */
  public static String faultWorkload(Settings s, long accesses) {
    return "uniform:vms="
        + s.vms()
        + ",vcpus="
        + s.vcpus()
        + ",pages="
        + s.faultPages()
        + ",read=1,accesses="
        + accesses
        + ",seed=1";
  }

  /** The hit workload with {@code accesses} accesses per vCPU. */
  public static String hitWorkload(Settings s, long accesses) {
    return "identical:vms="
        + s.vms()
        + ",vcpus="
        + s.vcpus()
        + ",pages=1024,ws="
        + HIT_WS
        + ",read=1,locality=uniform,accesses="
        + accesses
        + ",seed=1";
  }

  /** Policy FIXED, default quirks, 64-entry TLB, KSM inert (see the class comment). */
  public static EngineConfig config() {
    return EngineConfig.defaults(MmuOptions.defaults(Policy.FIXED)).withKsm(1, 60_000, 0);
  }

  private static volatile boolean clockInstalled;

  /**
   * Runs {@code workload} on the actor mesh. The timed span starts when the mesh's actor system has
   * started and ends when its termination begins ({@link ShutdownClock}): the VMs' setup, the drive
   * and the read-back of frames and HTABs are inside it (they cancel in a {@link Marginal} but the
   * drive), the start-up and shutdown of the actor system are not. The shutdown is left out because
   * its cost grows with the run: Pekko's scheduler collects every timer still in its wheel when it
   * closes, and the mesh starts one timer per request (see the report).
   */
  public static Run mesh(String workload) {
    if (!clockInstalled) {
      ShutdownClock.install();
      clockInstalled = true;
    }
    WorkloadSpec spec = WorkloadParser.parse(workload);
    EngineConfig cfg = config();
    long gc0 = gcMillis();
    long t0 = System.nanoTime();
    // FREE pacing: pipelined batches, ksmd on its own timer (LOCKSTEP adds a barrier per round).
    MeshResult r = MeshEngine.run(spec, cfg, MeshEngine.Pacing.FREE);
    long whole = System.nanoTime() - t0;
    long gc = gcMillis() - gc0;
    ShutdownClock.Times t = ShutdownClock.last(MeshEngine.SYSTEM_NAME);
    if (t == null || t.stopping() == 0 || t.started() < t0) {
      throw new IllegalStateException("the shutdown clock did not run in the mesh's actor system");
    }
    long nanos = t.stopping() - t.started();
    return new Run(nanos, whole, gc, r.completed(), r.failed(), Map.copyOf(r.counters().toMap()));
  }

  /** Runs {@code workload} on the sequential engine, timing {@code run()} only. */
  public static Run sequential(String workload) {
    WorkloadSpec spec = WorkloadParser.parse(workload);
    SequentialEngine engine = new SequentialEngine(spec, config());
    long gc0 = gcMillis();
    long t0 = System.nanoTime();
    RunResult r = engine.run(null);
    long nanos = System.nanoTime() - t0;
    long gc = gcMillis() - gc0;
    Map<String, Long> counters = new TreeMap<>();
    for (Counter s : Counter.RUN) {
      counters.put(s.name(), r.totals().get(s));
    }
    long failed = r.totals().get(Counter.FAILED_ACCESSES);
    return new Run(nanos, nanos, gc, r.totals().get(Counter.ACCESSES) - failed, failed, counters);
  }

  /** Garbage-collection milliseconds so far, every collector. */
  static long gcMillis() {
    long ms = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, b.getCollectionTime());
    }
    return ms;
  }

  /**
   * Runs {@code workload(n)} and {@code workload(LONG_FACTOR * n)} on {@code engine}, failing on
   * failed accesses.
   */
  public static Marginal marginal(
      java.util.function.Function<String, Run> engine, LongFunction<String> workload, long n) {
    Run small = checked(engine.apply(workload.apply(n)), workload.apply(n));
    System.gc();
    long longN = LONG_FACTOR * n;
    Run big = checked(engine.apply(workload.apply(longN)), workload.apply(longN));
    System.gc();
    return new Marginal(small, big);
  }

  /**
   * Runs {@code workload(LONG_FACTOR * n)} only and pairs it with an empty short run: for an engine
   * whose timed span has no fixed cost (the sequential engine's {@code run()}), the rate of the
   * whole long run, which one measurement gives with less noise than a difference of two.
   */
  public static Marginal longRunOnly(
      java.util.function.Function<String, Run> engine, LongFunction<String> workload, long n) {
    long longN = LONG_FACTOR * n;
    Run big = checked(engine.apply(workload.apply(longN)), workload.apply(longN));
    System.gc();
    return new Marginal(new Run(0, 0, 0, 0, 0, Map.of()), big);
  }

  private static Run checked(Run r, String workload) {
    if (r.failed() != 0) {
      throw new IllegalStateException(
          "benchmark run of " + workload + " had " + r.failed() + " failed accesses");
    }
    return r;
  }

  /**
   * The request/reply pairs and one-way messages per fault that a fault-workload run's counters
   * imply (see the class comment), by kind, plus the per-batch and per-store traffic.
   */
  public static Map<String, Double> messagesPerFault(Marginal m) {
    double faults = m.big().faults() - m.small().faults();
    long exits = m.delta("NOHPTE_EXITS") + m.delta("PROTFAULT_EXITS") + m.delta("NOEXEC_EXITS");
    long maps = m.delta("HOST_MAPS_RO") + m.delta("HOST_MAPS_RW") + m.delta("MAPS_REFUSED");
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("Lookup", (m.delta("HTAB_HITS") + exits) / faults);
    out.put("Xlate", (exits - m.delta("REFLECTED_RAW")) / faults);
    out.put("HandleException", (m.delta("REFLECTED_DSI") + m.delta("REFLECTED_ISI")) / faults);
    out.put("GfnToPfnProt", (maps + m.delta("MMIO_EXITS")) / faults);
    out.put("MapPage", maps / faults);
    out.put("UnmapPage", m.delta("UNMAPS") / faults);
    double pairs = out.values().stream().mapToDouble(Double::doubleValue).sum();
    out.put("= request/reply pairs", pairs);
    out.put("ReleaseLease (one-way)", (maps + m.delta("MMIO_EXITS")) / faults);
    out.put("TlbShootdown+ack", m.delta("SHOOTDOWNS") / faults);
    out.put("ApplyStores", m.delta("STORE_FLUSHES") / faults);
    out.put(
        "RunBatch+BatchDone",
        (m.big().completed() - m.small().completed()) / (double) MeshEngine.BATCH / faults);
    return out;
  }

  /** Median, min and max of some samples. */
  record Stats(double median, double min, double max) {
    static Stats of(List<Double> xs) {
      double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      int n = a.length;
      double med = n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
      return new Stats(med, a[0], a[n - 1]);
    }
  }

  /** Every sample of a benchmark run, by measurement. */
  static final class Samples {
    final List<Double> raw = new ArrayList<>();
    final List<Double> meshFaults = new ArrayList<>();
    final List<Double> meshFaultsWhole = new ArrayList<>();
    final List<Double> meshFaultGcShare = new ArrayList<>();
    final List<Double> seqFaultGcShare = new ArrayList<>();
    final List<Double> seqFaults = new ArrayList<>();
    final List<Double> meshHits = new ArrayList<>();
    final List<Double> seqHits = new ArrayList<>();
    Marginal lastMeshFault;
    Marginal lastSeqFault;
    Marginal lastMeshHit;
    Marginal lastSeqHit;
  }

  /** One round: one sample of each measurement, in a fixed order. */
  static void round(Settings s, RawChainBaseline raw, Samples out, boolean keep, int index) {
    System.gc();
    RawChainBaseline.Result r = raw.run(s.rawChains());
    long wanted = s.rawChains() * raw.clients();
    if (r.chains() != wanted
        || r.requests() != wanted * RawChainBaseline.ROUND_TRIPS
        || r.releases() != wanted * RawChainBaseline.ONE_WAY) {
      throw new IllegalStateException("raw baseline: inconsistent counts " + r);
    }
    Marginal mf = marginal(MeshBenchmark::mesh, n -> faultWorkload(s, n), s.faultAccesses());
    Marginal sf =
        longRunOnly(MeshBenchmark::sequential, n -> faultWorkload(s, n), s.faultAccesses());
    Marginal mh = marginal(MeshBenchmark::mesh, n -> hitWorkload(s, n), s.hitAccesses());
    Marginal sh = longRunOnly(MeshBenchmark::sequential, n -> hitWorkload(s, n), s.hitAccesses());
    System.out.printf(
        Locale.ROOT,
        "%s %d: raw %,.0f chains/s | mesh %,.0f faults/s (%.2f s; whole calls %.2f s) | seq"
            + " %,.0f faults/s | mesh %,.0f hits/s (%.2f s) | seq %,.0f hits/s%n",
        keep ? "iteration" : "warm-up",
        index,
        r.chainsPerSecond(),
        mf.faultsPerSecond(),
        mf.seconds(),
        mf.wholeSeconds(),
        sf.faultsPerSecond(),
        mh.accessesPerSecond(),
        mh.seconds(),
        sh.accessesPerSecond());
    if (keep) {
      out.raw.add(r.chainsPerSecond());
      out.meshFaults.add(mf.faultsPerSecond());
      out.meshFaultsWhole.add((mf.big().faults() - mf.small().faults()) / mf.wholeSeconds());
      out.meshFaultGcShare.add(mf.gcSeconds() / mf.wholeSeconds());
      out.seqFaultGcShare.add(sf.gcSeconds() / sf.seconds());
      out.seqFaults.add(sf.faultsPerSecond());
      out.meshHits.add(mh.accessesPerSecond());
      out.seqHits.add(sh.accessesPerSecond());
      out.lastMeshFault = mf;
      out.lastSeqFault = sf;
      out.lastMeshHit = mh;
      out.lastSeqHit = sh;
    }
  }

  /** Runs every round and returns the samples. */
  static Samples measure(Settings s) {
    Samples out = new Samples();
    try (RawChainBaseline raw = new RawChainBaseline(s.vms(), s.vcpus())) {
      for (int i = 1; i <= s.warmups(); i++) {
        round(s, raw, out, false, i);
      }
      for (int i = 1; i <= s.iterations(); i++) {
        round(s, raw, out, true, i);
      }
    }
    return out;
  }

  /** Prints the table, the ratios and the profile of the fault workload. */
  static void report(Settings s, Samples x) {
    Stats raw = Stats.of(x.raw);
    Stats mf = Stats.of(x.meshFaults);
    Stats sf = Stats.of(x.seqFaults);
    Stats mh = Stats.of(x.meshHits);
    Stats sh = Stats.of(x.seqHits);
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "== results: median (min .. max) of %d iterations after %d warm-up(s); %d VM(s) x %d"
            + " vCPU(s)%n",
        s.iterations(),
        s.warmups(),
        s.vms(),
        s.vcpus());
    String f = "%-44s %14s %14s .. %-14s%n";
    System.out.printf(Locale.ROOT, f, "measurement", "median", "min", "max");
    line(f, "raw pekko chains/s (4 req/reply + 1 tell)", raw);
    line(f, "mesh faults/s", mf);
    line(f, "  (whole calls, system shutdown included)", Stats.of(x.meshFaultsWhole));
    line(f, "sequential faults/s", sf);
    line(f, "mesh TLB-hit accesses/s (batches of " + MeshEngine.BATCH + ")", mh);
    line(f, "sequential TLB-hit accesses/s", sh);
    System.out.println();
    ratio("mesh faults / raw chains", mf.median() / raw.median(), 0.5);
    ratio("mesh faults / sequential faults", mf.median() / sf.median(), -1);
    ratio("mesh hit accesses / sequential hit accesses", mh.median() / sh.median(), 0.5);
    ratio("raw chains / sequential faults", raw.median() / sf.median(), -1);
    System.out.println("the same ratios of the best (max) rates, less sensitive to other load:");
    ratio("  mesh faults / raw chains", mf.max() / raw.max(), 0.5);
    ratio("  mesh faults / sequential faults", mf.max() / sf.max(), -1);
    ratio("  mesh hit accesses / sequential hit accesses", mh.max() / sh.max(), 0.5);

    Marginal m = x.lastMeshFault;
    System.out.println();
    System.out.println("== profile of the mesh fault workload (last iteration, marginal half)");
    System.out.printf(
        Locale.ROOT,
        "faults per access %.3f, TLB hits per access %.3f (sequential: faults per access %.3f)%n",
        (m.big().faults() - m.small().faults())
            / (double) (m.big().completed() - m.small().completed()),
        m.delta("TLB_HITS") / (double) (m.big().completed() - m.small().completed()),
        (x.lastSeqFault.big().faults() - x.lastSeqFault.small().faults())
            / (double) (x.lastSeqFault.big().completed() - x.lastSeqFault.small().completed()));
    System.out.printf(
        Locale.ROOT,
        "GC time / marginal time, fault workload (median): mesh %.2f, sequential %.2f%n",
        Stats.of(x.meshFaultGcShare).median(),
        Stats.of(x.seqFaultGcShare).median());
    Map<String, Double> perFault = messagesPerFault(m);
    System.out.println("messages per fault implied by the vCPU counters:");
    perFault.forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-26s %8.3f%n", k, v));
    double pairs = perFault.get("= request/reply pairs");
    double meshPairsPerSec = mf.median() * pairs;
    double rawPairsPerSec = raw.median() * RawChainBaseline.ROUND_TRIPS;
    System.out.printf(
        Locale.ROOT,
        "request/reply pairs per second: mesh %,.0f, raw %,.0f (mesh/raw %.2f);"
            + " per pair per client: mesh %.2f us, raw %.2f us%n",
        meshPairsPerSec,
        rawPairsPerSec,
        meshPairsPerSec / rawPairsPerSec,
        1e6 * s.vms() * s.vcpus() / meshPairsPerSec,
        1e6 * s.vms() * s.vcpus() / rawPairsPerSec);
    Marginal h = x.lastMeshHit;
    System.out.printf(
        Locale.ROOT,
        "hit workload: TLB hits per access mesh %.5f, sequential %.5f%n",
        h.delta("TLB_HITS") / (double) (h.big().completed() - h.small().completed()),
        x.lastSeqHit.delta("TLB_HITS")
            / (double) (x.lastSeqHit.big().completed() - x.lastSeqHit.small().completed()));
  }

  private static void line(String f, String name, Stats st) {
    System.out.printf(
        Locale.ROOT,
        f,
        name,
        String.format(Locale.ROOT, "%,.0f", st.median()),
        String.format(Locale.ROOT, "%,.0f", st.min()),
        String.format(Locale.ROOT, "%,.0f", st.max()));
  }

  private static void ratio(String name, double r, double aim) {
    String verdict =
        aim < 0
            ? ""
            : (r >= aim ? "  (aim >= " + aim + ": met)" : "  (aim >= " + aim + ": MISSED)");
    System.out.printf(Locale.ROOT, "%-44s %8.3f%s%n", name, r, verdict);
  }

  /**
   * {@code MeshBenchmark [--quick] [--iterations N] [--warmups N] [--vms N] [--vcpus N]}: runs
   * every measurement and prints the table; exits 0, or 2 on a bad argument.
   */
  public static void main(String[] args) {
    Settings s = Settings.standard();
    try {
      s = parseArgs(s, args);
    } catch (IllegalArgumentException e) {
      System.err.println("MeshBenchmark: " + e.getMessage());
      System.err.println(
          "usage: MeshBenchmark [--quick] [--iterations N] [--warmups N] [--vms N] [--vcpus N]");
      System.exit(2);
    }
    Runtime rt = Runtime.getRuntime();
    System.out.printf(
        Locale.ROOT,
        "== mmumesh issue 4 benchmarks: %d processors, max heap %d MiB, Java %s%n",
        rt.availableProcessors(),
        rt.maxMemory() >> 20,
        System.getProperty("java.version"));
    System.out.println("settings: " + s);
    System.out.println("fault workload (short run): " + faultWorkload(s, s.faultAccesses()));
    System.out.println("hit workload (short run):   " + hitWorkload(s, s.hitAccesses()));
    Samples x = measure(s);
    report(s, x);
    System.exit(0);
  }

  static Settings parseArgs(Settings s, String[] args) {
    List<String> a = Arrays.asList(args);
    for (int i = 0; i < a.size(); i++) {
      String k = a.get(i);
      if (k.equals("--quick")) {
        s = Settings.quick();
        continue;
      }
      if (i + 1 >= a.size()) {
        throw new IllegalArgumentException(k + ": unknown option or missing value");
      }
      int v;
      try {
        v = Integer.parseInt(a.get(++i));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(k + ": '" + a.get(i) + "' is not an integer");
      }
      s =
          switch (k) {
            case "--iterations" ->
                new Settings(
                    s.vms(),
                    s.vcpus(),
                    s.faultPages(),
                    s.faultAccesses(),
                    s.hitAccesses(),
                    s.rawChains(),
                    s.warmups(),
                    range(k, v, 1, 100));
            case "--warmups" ->
                new Settings(
                    s.vms(),
                    s.vcpus(),
                    s.faultPages(),
                    s.faultAccesses(),
                    s.hitAccesses(),
                    s.rawChains(),
                    range(k, v, 0, 100),
                    s.iterations());
            case "--vms" ->
                new Settings(
                    range(k, v, 1, 64),
                    s.vcpus(),
                    s.faultPages(),
                    s.faultAccesses(),
                    s.hitAccesses(),
                    s.rawChains(),
                    s.warmups(),
                    s.iterations());
            case "--vcpus" ->
                new Settings(
                    s.vms(),
                    range(k, v, 1, 64),
                    s.faultPages(),
                    s.faultAccesses(),
                    s.hitAccesses(),
                    s.rawChains(),
                    s.warmups(),
                    s.iterations());
            default -> throw new IllegalArgumentException(k + ": unknown option");
          };
    }
    return s;
  }

  private static int range(String k, int v, int lo, int hi) {
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(
          k + ": " + v + " is out of range; allowed " + lo + " to " + hi);
    }
    return v;
  }
}
