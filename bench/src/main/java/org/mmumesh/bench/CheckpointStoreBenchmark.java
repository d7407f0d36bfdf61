package org.mmumesh.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.mmumesh.checkpoint.store.CheckpointReader;
import org.mmumesh.checkpoint.store.CheckpointStore;
import org.mmumesh.checkpoint.store.CheckpointWriter;
import org.mmumesh.checkpoint.store.H2CheckpointStore;
import org.mmumesh.checkpoint.store.HostFacts;
import org.mmumesh.checkpoint.store.PostgresCheckpointStore;
import org.mmumesh.checkpoint.store.PostgresServer;
import org.mmumesh.checkpoint.store.StoreOptions;
import org.mmumesh.checkpoint.v1.CheckpointHeader;
import org.mmumesh.checkpoint.v1.ClusterShape;
import org.mmumesh.checkpoint.v1.PartEntry;

/**
 * Write and read rates of the checkpoint store (issue 13's benchmark; not a test): a synthetic
 * checkpoint of {@code PAGES} guest pages' worth of bytes (4 KiB each), each page all-zero with
 * probability {@code ZERO} and random otherwise, cut into parts of {@code PART_PAGES} pages (one
 * part per simulated entity), written to and read back from an H2 store in a temp folder and a
 * throwaway PostgreSQL server ({@link PostgresServer}, fsync off as in the tests), in one JVM:
 *
 * <pre>
 * bin/mmumesh-bench checkpoint [--pages N] [--zero F] [--part-pages N] [--stores h2,postgresql]
 *     [--no-compress] [--chunk-bytes N]
 * </pre>
 *
 * <p>Prints per store: write time (begin to commit) and read time (open, every part streamed and
 * checked: CRC32C per chunk, SHA-256 per part), each as guest pages/s, MB/s of checkpoint bytes and
 * parts/s, and the size on disk per guest page (H2: the folder's growth; PostgreSQL: the database's
 * growth, {@code pg_database_size}). The page generator's own rate is printed first: it bounds the
 * write rate. The store sees the bytes a core hands it; the cores store zero and KSM-shared pages
 * once, so a real checkpoint of 16 Mi guest pages hands the store far fewer bytes than 64 GiB.
 */
public final class CheckpointStoreBenchmark {
  private static final int PAGE = 4096;
  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  private CheckpointStoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    long pages = 1 << 20;
    double zero = 0.75;
    int partPages = 16384;
    List<String> stores = List.of("h2", "postgresql");
    boolean compress = true;
    int chunk = 1 << 20;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--pages" -> pages = Long.parseLong(args[++i]);
        case "--zero" -> zero = Double.parseDouble(args[++i]);
        case "--part-pages" -> partPages = Integer.parseInt(args[++i]);
        case "--stores" -> stores = List.of(args[++i].split(","));
        case "--no-compress" -> compress = false;
        case "--chunk-bytes" -> chunk = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; allowed --pages N --zero F --part-pages N --stores h2,postgresql"
                    + " --no-compress --chunk-bytes N");
      }
    }
    int parts = (int) ((pages + partPages - 1) / partPages);
    double bytes = pages * (double) PAGE;
    System.out.printf(
        "checkpoint of %d guest pages (%.2f GiB), %.0f%% zero pages, %d parts of %d pages;"
            + " chunks of %d bytes, compression %s%n",
        pages, bytes / (1L << 30), zero * 100, parts, partPages, chunk, compress ? "on" : "off");

    cpuStart = cpuNanos();
    long t0 = System.nanoTime();
    byte[] sink = new byte[1 << 20];
    for (int p = 0; p < parts; p++) {
      try (InputStream in = new SyntheticPages(p, partPages(p, pages, partPages), zero)) {
        while (in.read(sink) >= 0) {
          // generate only
        }
      }
    }
    report("generator alone", System.nanoTime() - t0, pages, parts);

    for (String kind : stores) {
      switch (kind) {
        case "h2" -> {
          Path dir = Files.createTempDirectory("mmumesh-bench-h2-");
          try {
            StoreOptions o =
                H2CheckpointStore.defaultOptions().withCompress(compress).withChunkSizeBytes(chunk);
            try (CheckpointStore store = H2CheckpointStore.open(dir, o)) {
              long before = folderBytes(dir);
              run("h2", store, pages, zero, partPages, parts, () -> folderBytes(dir) - before);
            }
          } finally {
            deleteRecursively(dir);
          }
        }
        case "postgresql" -> {
          try (PostgresServer server = PostgresServer.startNew()) {
            String url = server.createDatabase("bench");
            StoreOptions o =
                PostgresCheckpointStore.defaultOptions()
                    .withCompress(compress)
                    .withChunkSizeBytes(chunk);
            try (CheckpointStore store = PostgresCheckpointStore.connect(url, o)) {
              long before = databaseBytes(url);
              run(
                  "postgresql",
                  store,
                  pages,
                  zero,
                  partPages,
                  parts,
                  () -> databaseBytes(url) - before);
            }
          }
        }
        default ->
            throw new IllegalArgumentException(
                "--stores: unknown store " + kind + "; allowed h2, postgresql");
      }
    }
  }

  private interface Size {
    long bytes() throws Exception;
  }

  private static void run(
      String name,
      CheckpointStore store,
      long pages,
      double zero,
      int partPages,
      int parts,
      Size size)
      throws Exception {
    CheckpointHeader header =
        HostFacts.header(ClusterShape.newBuilder().setNodeCount(1).build(), 0, 0);
    cpuStart = cpuNanos();
    long t0 = System.nanoTime();
    try (CheckpointWriter w = store.begin("bench", header)) {
      for (int p = 0; p < parts; p++) {
        try (InputStream in = new SyntheticPages(p, partPages(p, pages, partPages), zero)) {
          w.putPart("page-frame", "part-" + p, in);
        }
      }
      w.commit();
    }
    report(name + " write", System.nanoTime() - t0, pages, parts);
    long onDisk = size.bytes();
    byte[] sink = new byte[1 << 20];
    cpuStart = cpuNanos();
    long t1 = System.nanoTime();
    long read = 0;
    try (CheckpointReader r = store.open("bench")) {
      for (PartEntry part : r.parts()) {
        try (InputStream in = r.openPart(part)) {
          int n;
          while ((n = in.read(sink)) >= 0) {
            read += n;
          }
        }
      }
    }
    report(name + " read ", System.nanoTime() - t1, pages, parts);
    if (read != pages * PAGE) {
      throw new IllegalStateException("read " + read + " bytes of " + pages * PAGE);
    }
    System.out.printf(
        "%s size on disk: %.1f MiB, %.1f bytes per guest page%n",
        name, onDisk / (double) (1 << 20), onDisk / (double) pages);
    store.delete("bench");
  }

  private static long partPages(int part, long pages, int partPages) {
    return Math.min(partPages, pages - (long) part * partPages);
  }

  private static long cpuStart;

  /** This JVM's CPU time in ns (all threads; a PostgreSQL server's own CPU is not in it). */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static void report(String what, long nanos, long pages, int parts) {
    double s = nanos / 1e9;
    long cpu = cpuNanos();
    System.out.printf(
        "%-18s %7.2f s (JVM CPU %6.2f s)  %10.0f guest pages/s  %8.1f MB/s  %7.1f parts/s%n",
        what, s, (cpu - cpuStart) / 1e9, pages / s, pages * (double) PAGE / 1e6 / s, parts / s);
    cpuStart = cpuNanos();
  }

  private static long folderBytes(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      long sum = 0;
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (Files.isRegularFile(p)) {
          sum += Files.size(p);
        }
      }
      return sum;
    }
  }

  private static long databaseBytes(String url) throws Exception {
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      st.execute("CHECKPOINT");
      try (ResultSet rs = st.executeQuery("SELECT pg_database_size(current_database())")) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * {@code pages} pages of part {@code part}: page i is all-zero when a hash of (part, i) falls
   * under {@code zero}, else 4 KiB of xorshift output seeded by (part, i). Deterministic, and fast
   * enough not to be what is measured (its rate is printed).
   */
  static final class SyntheticPages extends InputStream {
    private final int part;
    private final long pages;
    private final double zero;
    private final byte[] page = new byte[PAGE];
    private long next;
    private int pos = PAGE;

    SyntheticPages(int part, long pages, double zero) {
      this.part = part;
      this.pages = pages;
      this.zero = zero;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      int done = 0;
      while (done < len) {
        if (pos == PAGE) {
          if (next == pages) {
            break;
          }
          fill(next++);
          pos = 0;
        }
        int n = Math.min(len - done, PAGE - pos);
        System.arraycopy(page, pos, b, off + done, n);
        pos += n;
        done += n;
      }
      return done == 0 && len > 0 ? -1 : done;
    }

    private void fill(long i) {
      long x = mix(((long) part << 32) ^ i);
      if ((x >>> 11) * 0x1.0p-53 < zero) {
        java.util.Arrays.fill(page, (byte) 0);
        return;
      }
      long s = x | 1;
      for (int o = 0; o < PAGE; o += 8) {
        s ^= s << 13;
        s ^= s >>> 7;
        s ^= s << 17;
        LONGS.set(page, o, s);
      }
    }

    private static long mix(long z) {
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      return z ^ (z >>> 31);
    }
  }
}
