package org.mmumesh.bench;

import java.util.concurrent.TimeUnit;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.workload.GuestImage;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * KSM scan rate (issue 3: pages visited per second, single thread). Memory is built as the {@link
 * org.mmumesh.engine.SequentialEngine} builds it: per VM one memslot over its pages, every page
 * populated from one shared synthetic image (30 % unique contents, the rest zero or 16 shared
 * contents), the whole range MADV_MERGEABLE, ksmd at {@code run=1}.
 *
 * <ul>
 *   <li>{@link #steadyScan}: 4 VMs x 1 Mi pages (4 Mi pages), brought to the steady state by two
 *       full passes in the trial setup (everything merged into the stable tree); each invocation
 *       visits exactly {@value #STEADY_VISITS} pages with {@code runBatch}, continuing the scan
 *       cursor across invocations (so across pass boundaries, which reset the unstable tree).
 *   <li>{@link #mergePasses}: 4 VMs x 256 Ki pages freshly populated per invocation (setup not
 *       timed), then {@code runFullScans(2)}: the first pass fills the unstable tree and its
 *       checksums, the second merges everything (write-protect, replace_page, stable tree inserts).
 *       The score is pages visited per second; the {@link Visits} counter confirms the visit count.
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class KsmBenchmark {
  static final int STEADY_VMS = 4;
  static final int STEADY_PAGES = 1 << 20;
  static final int STEADY_VISITS = 1 << 20;
  static final int MERGE_VMS = 4;
  static final int MERGE_PAGES = 1 << 18;
  static final long SEED = 1;

  /** Builds the page frames and the scanner, as the engine does. */
  static KsmScanner populated(int vms, int pages, GuestImage image) {
    PageFrames frames = new PageFrames();
    KsmScanner ksm = new KsmScanner(frames);
    for (int vm = 0; vm < vms; vm++) {
      frames.createVm(vm);
      frames.addSlot(vm, 0, 0, pages, 0, false);
      ksm.madviseMergeable(vm, 0, pages);
      for (int p = 0; p < image.pages(); p++) {
        frames.populate(vm, p, image.fingerprint(p));
      }
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    return ksm;
  }

  /** Pages visited per second (over the measured time). */
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  @State(Scope.Thread)
  public static class Visits {
    public long pagesVisited;

    @Setup(Level.Iteration)
    public void clear() {
      pagesVisited = 0;
    }
  }

  @State(Scope.Thread)
  public static class Steady {
    KsmScanner ksm;

    @Setup(Level.Trial)
    public void build() {
      ksm = populated(STEADY_VMS, STEADY_PAGES, GuestImage.synthetic(STEADY_PAGES, 0.3, SEED));
      ksm.setPagesToScan(STEADY_PAGES);
      ksm.runFullScans(2);
      long pages = (long) STEADY_VMS * STEADY_PAGES;
      if (ksm.pagesShared() + ksm.pagesSharing() != pages) {
        throw new IllegalStateException(
            "benchmark setup is wrong: not everything merged after 2 passes: "
                + ksm.stats()
                + " of "
                + pages);
      }
    }
  }

  @State(Scope.Thread)
  public static class Fresh {
    GuestImage image;
    KsmScanner ksm;

    @Setup(Level.Trial)
    public void image() {
      image = GuestImage.synthetic(MERGE_PAGES, 0.3, SEED);
    }

    @Setup(Level.Invocation)
    public void build() {
      ksm = null;
      ksm = populated(MERGE_VMS, MERGE_PAGES, image);
      ksm.setPagesToScan(MERGE_PAGES);
    }
  }

  @Benchmark
  @OperationsPerInvocation(STEADY_VISITS)
  public long steadyScan(Steady s, Visits v) {
    KsmScanner ksm = s.ksm;
    int visited = 0;
    while (visited < STEADY_VISITS) {
      ksm.setPagesToScan(STEADY_VISITS - visited);
      visited += ksm.runBatch();
    }
    v.pagesVisited += visited;
    return ksm.pagesSharing();
  }

  @Benchmark
  @OperationsPerInvocation(2 * MERGE_VMS * MERGE_PAGES)
  public long mergePasses(Fresh s, Visits v) {
    long before = s.ksm.pagesVisited();
    s.ksm.runFullScans(2);
    v.pagesVisited += s.ksm.pagesVisited() - before;
    return s.ksm.pagesSharing();
  }
}
