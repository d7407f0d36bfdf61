package org.mmumesh.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/**
 * Memory per simulated guest page (issue 3: 16 Mi guest pages, 64 GiB of guest RAM, in well under 1
 * GiB of heap). Not a JMH benchmark: it is one build of one large state, measured once. Run it in a
 * fresh JVM whose heap is capped, which is the proof that it fits:
 *
 * <pre>
 * java -Xmx1g -cp bench/target/benchmarks.jar org.mmumesh.bench.MemoryFootprint [VMS [PAGES [DEPTH]]]
 * </pre>
 *
 * <p>It builds a {@link SequentialEngine} for {@code VMS} (default 16) identical 64-bit guests of
 * {@code PAGES} (default 2^20) pages each, all populated from one synthetic image (30 % unique
 * contents, the rest zero or 16 shared contents; every page mergeable across guests), runs the
 * engine's KSM warm-up (two full passes, which merge everything) with no guest accesses, and
 * reports the retained heap (used heap after {@code System.gc()}) before and after, in bytes per
 * guest page. Then a {@link HeapSizer} walk of the engine attributes the retained bytes to the
 * structures holding them (field paths up to {@code DEPTH} hops, default 4), which tells what costs
 * what. If the build runs out of heap, rerun with fewer pages per VM and the breakdown, which is
 * per page, extrapolates.
 */
public final class MemoryFootprint {
  private MemoryFootprint() {}

  public static void main(String[] args) {
    int vms = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int pages = args.length > 1 ? Integer.parseInt(args[1]) : 1 << 20;
    int depth = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    long guestPages = (long) vms * pages;
    System.out.printf(
        "MemoryFootprint: %d VMs x %d pages = %d guest pages (%.1f GiB of guest RAM); max heap %d"
            + " MiB%n",
        vms,
        pages,
        guestPages,
        guestPages * 4096.0 / (1L << 30),
        Runtime.getRuntime().maxMemory() >> 20);

    long base = usedAfterGc();
    GuestImage image = GuestImage.synthetic(pages, 0.3, 1);
    ReadMostlyPhase idle = new ReadMostlyPhase(0.95, pages, Locality.UNIFORM, 0.0, 0, 0.0);
    WorkloadSpec spec =
        Workloads.identicalGuests("footprint", vms, 1, pages, MmuKind.BOOK3S_64, image, idle, 1);
    long afterImage = usedAfterGc();
    long t0 = System.nanoTime();
    SequentialEngine engine =
        new SequentialEngine(spec, EngineConfig.defaults(MmuOptions.defaults(Policy.FIXED)));
    long t1 = System.nanoTime();
    long afterBuild = usedAfterGc();
    RunResult r = engine.run(null);
    long t2 = System.nanoTime();
    long afterKsm = usedAfterGc();

    KsmSample last = r.last();
    System.out.printf(
        "build %.1f s, KSM warm-up (%d full scans, %d pages visited) %.1f s%n",
        (t1 - t0) / 1e9, last.fullScans(), r.host("ksm_pages_visited"), (t2 - t1) / 1e9);
    System.out.printf(
        "KSM: pages_shared %d, pages_sharing %d, frames in use %d, frames saved by KSM %d%n",
        last.pagesShared(), last.pagesSharing(), r.host("frames_in_use"), last.framesSavedByKsm());
    System.out.printf(
        "frame table: %d frames allocated, room for %d (chunks of frames are released when their"
            + " last frame is freed)%n",
        engine.frames().framesAllocated(), engine.frames().frameCapacity());
    System.out.printf("retained heap (used after System.gc()), MiB and bytes per guest page:%n");
    row("  image alone", afterImage - base, guestPages);
    row("  engine built (populated, before KSM)", afterBuild - base, guestPages);
    row("  after KSM warm-up (the figure)", afterKsm - base, guestPages);
    System.out.printf("  peak of each heap pool (not simultaneous): %s%n", peaks());

    HeapSizer sizer = new HeapSizer(depth);
    long walked = sizer.walk("engine", engine);
    row("walked size of the engine (HeapSizer estimate)", walked, guestPages);
    System.out.printf("breakdown by structure (>= 0.1 B/page), MiB and bytes per guest page:%n");
    Map<String, long[]> rolled = new TreeMap<>();
    for (Map.Entry<String, long[]> e : sizer.byPath().entrySet()) {
      String[] parts = e.getKey().split("\\.");
      StringBuilder prefix = new StringBuilder(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        prefix.append('.').append(parts[i]);
        long[] acc = rolled.computeIfAbsent(prefix.toString(), k -> new long[2]);
        acc[0] += e.getValue()[0];
        acc[1] += e.getValue()[1];
      }
    }
    for (Map.Entry<String, long[]> e : rolled.entrySet()) {
      if (e.getValue()[0] >= guestPages / 10) {
        int level = e.getKey().split("\\.").length - 2;
        row(
            "  " + "  ".repeat(level) + e.getKey() + " (" + e.getValue()[1] + " objects)",
            e.getValue()[0],
            guestPages);
      }
    }
    java.lang.ref.Reference.reachabilityFence(engine);
    java.lang.ref.Reference.reachabilityFence(Optional.of(r));
  }

  private static void row(String what, long bytes, long guestPages) {
    System.out.printf(
        "%-72s %9.1f MiB %7.2f B/page%n", what, bytes / 1048576.0, bytes / (double) guestPages);
  }

  static long usedAfterGc() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  private static String peaks() {
    StringBuilder sb = new StringBuilder();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        sb.append(p.getName()).append('=').append(p.getPeakUsage().getUsed() >> 20).append("M ");
      }
    }
    return sb.toString().trim();
  }
}
