package org.mmumesh.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Issue 10's trace benchmark: Lackey trace lines per second and the heap a streamed trace needs, at
 * several trace lengths (not JMH: one pass over a large file, measured once per length). Run it in
 * a fresh JVM with a small capped heap, which is itself the proof that the heap is flat:
 *
 * <pre>
 * java -Xmx256m -cp bench/target/benchmarks.jar org.mmumesh.bench.TraceBenchmark [--gzip] [--dir D] LINES...
 * </pre>
 *
 * <p>For each {@code LINES} (e.g. 10000000 100000000) it writes a generated trace of that many
 * lines to {@code D} (default the temp directory; deleted afterwards): Lackey's shape, a {@code ==}
 * header, then instruction fetches walking code pages interleaved with loads, stores and modifies
 * over a fixed set of {@value #DATA_PAGES} data pages (seeded, so equal lengths give equal files),
 * and {@code SB} lines every 16 records. Then it runs the {@code lackey:} workload as {@code
 * bin/mmumesh run} does: {@link WorkloadParser#parse} (the scan: every line parsed and folded once)
 * and one vCPU's source drained in batches of 1024 (the replay: the file read again). It reports
 * lines/s of each pass and the heap: the largest heap in use right after any garbage collection
 * during the two passes (from the JVM's GC notifications: that is the live data, what must fit),
 * and the used heap after a full {@link System#gc()} at the end with the workload still referenced.
 * Flat means these stay the same from 10 M to 100 M lines.
 */
public final class TraceBenchmark {
  /** Distinct data pages of the generated traces (the folding window holds them all). */
  static final int DATA_PAGES = 1 << 16;

  private static final int CODE_PAGES = 4096;
  private static final AtomicLong maxLiveAfterGc = new AtomicLong();

  private TraceBenchmark() {}

  public static void main(String[] args) throws Exception {
    boolean gzip = false;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"));
    java.util.List<Long> lengths = new java.util.ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--gzip" -> gzip = true;
        case "--dir" -> dir = Path.of(args[++i]);
        default -> lengths.add(Long.parseLong(args[i].replace("_", "")));
      }
    }
    if (lengths.isEmpty()) {
      lengths = java.util.List.of(10_000_000L);
    }
    watchGc();
    System.out.printf(
        Locale.ROOT,
        "trace benchmark: -Xmx %d MiB, %s traces, %d data pages + %d code pages%n",
        Runtime.getRuntime().maxMemory() >> 20,
        gzip ? "gzip" : "text",
        DATA_PAGES,
        CODE_PAGES);
    System.out.printf(
        Locale.ROOT,
        "%12s %10s %12s %12s %12s %14s %14s%n",
        "lines",
        "file MiB",
        "accesses",
        "scan l/s",
        "replay l/s",
        "max live MiB",
        "end live MiB");
    for (long lines : lengths) {
      Path trace = dir.resolve("mmumesh-trace-bench-" + lines + (gzip ? ".gz" : ".txt"));
      try {
        generate(trace, lines, gzip);
        run(trace, lines);
      } finally {
        Files.deleteIfExists(trace);
      }
    }
  }

  private static void run(Path trace, long lines) throws IOException {
    System.gc();
    maxLiveAfterGc.set(usedHeap());
    long t0 = System.nanoTime();
    WorkloadSpec spec =
        WorkloadParser.parse(
            "lackey:path=" + trace + ",pages=" + (DATA_PAGES + CODE_PAGES) + ",vms=1");
    long t1 = System.nanoTime();
    AccessSource src = spec.sourceFor(0, 0);
    AccessBatch batch = new AccessBatch(1024);
    long accesses = 0;
    long sum = 0;
    int n;
    while ((n = src.fill(batch)) > 0) {
      accesses += n;
      sum += batch.ea(n - 1);
    }
    long t2 = System.nanoTime();
    if (accesses != src.expectedAccesses()) {
      throw new AssertionError(accesses + " accesses, expected " + src.expectedAccesses());
    }
    System.gc();
    long endLive = usedHeap();
    if (sum == 42) {
      System.out.print(""); // keeps the replay's results alive
    }
    System.out.printf(
        Locale.ROOT,
        "%,12d %10.1f %,12d %,12.0f %,12.0f %14.1f %14.1f%n",
        lines,
        Files.size(trace) / 1048576.0,
        accesses,
        lines / ((t1 - t0) / 1e9),
        lines / ((t2 - t1) / 1e9),
        Math.max(maxLiveAfterGc.get(), endLive) / 1048576.0,
        endLive / 1048576.0);
    if (spec.name().isEmpty()) {
      throw new AssertionError(); // keeps spec (its folding table) reachable until here
    }
  }

  /** Writes {@code lines} lines of a Lackey-shaped trace (seeded). */
  static void generate(Path path, long lines, boolean gzip) throws IOException {
    SplittableRandom rng = new SplittableRandom(lines);
    try (OutputStream file = Files.newOutputStream(path);
        OutputStream raw = gzip ? new GZIPOutputStream(file, 1 << 16) : file;
        OutputStream out = new BufferedOutputStream(raw, 1 << 16)) {
      byte[] header = "==1== Lackey, an example Valgrind tool (generated)\n".getBytes();
      out.write(header);
      long written = 1;
      long pc = 0x0400_0000L;
      byte[] line = new byte[64];
      long record = 0;
      while (written < lines) {
        int len;
        if (record % 16 == 0) {
          len = put(line, 0, "SB ");
          len = hex(line, len, pc, 8);
        } else if (record % 3 != 0) {
          pc += 1 + rng.nextInt(7);
          if (pc >= 0x0400_0000L + (long) CODE_PAGES * 4096 - 16) {
            pc = 0x0400_0000L;
          }
          len = put(line, 0, "I  ");
          len = hex(line, len, pc, 8);
          len = put(line, len, "," + (1 + rng.nextInt(7)));
        } else {
          int k = rng.nextInt(10);
          String kind = k < 6 ? " L " : k < 9 ? " S " : " M ";
          long addr = 0x1fff000000L + (long) rng.nextInt(DATA_PAGES) * 4096 + rng.nextInt(4088);
          len = put(line, 0, kind);
          len = hex(line, len, addr, 10);
          len = put(line, len, ",8");
        }
        line[len++] = '\n';
        out.write(line, 0, len);
        written++;
        record++;
      }
    }
  }

  private static int put(byte[] b, int at, String s) {
    for (int i = 0; i < s.length(); i++) {
      b[at + i] = (byte) s.charAt(i);
    }
    return at + s.length();
  }

  private static int hex(byte[] b, int at, long v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      b[at + i] = (byte) Character.forDigit((int) (v & 0xf), 16);
      v >>>= 4;
    }
    return at + digits;
  }

  private static long usedHeap() {
    MemoryUsage u = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return u.getUsed();
  }

  /** Records the largest heap in use after any collection (the live data at that moment). */
  private static void watchGc() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc)
          .addNotificationListener(
              (notification, handback) -> {
                if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
                    notification.getType())) {
                  return;
                }
                GarbageCollectionNotificationInfo info =
                    GarbageCollectionNotificationInfo.from(
                        (CompositeData) notification.getUserData());
                long used = 0;
                for (MemoryUsage u : info.getGcInfo().getMemoryUsageAfterGc().values()) {
                  used += u.getUsed();
                }
                maxLiveAfterGc.accumulateAndGet(used, Math::max);
              },
              null,
              null);
    }
  }
}
