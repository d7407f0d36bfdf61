package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.Locale;

/**
 * A node's memory budget: the heap its hosts, VMs, loads, event watchers and workload batches may
 * take, as {@link FootprintEstimator} projects it. Whatever would take heap reserves its projected
 * footprint first ({@link #reserve}) and is refused, with nothing allocated, when the reservation
 * does not fit: a {@link SimulationException.Kind#LIMIT} (RESOURCE_EXHAUSTED) naming the bytes
 * asked, left and budgeted and the request field that drives the footprint. A reservation is given
 * back ({@link Reservation#close}) when what it covers goes away (a VM or host deleted, a create
 * that failed, a load answered, a watcher closed). Thread-safe; pure (no actor code).
 *
 * <p><b>The default budget</b> ({@value #CONFIG_KEY} {@code = auto}) is {@value #DEFAULT_PERCENT}%
 * of the maximum heap minus the heap in use when the node starts (the actor system, gRPC, classes).
 * The rest is headroom for what the estimator does not see: requests being decoded by gRPC (up to
 * 16 MiB each), the transient copies of arrays that grow by doubling (the shadow-PTE cache, KSM's
 * tables), actor mailboxes, and the free regions G1 needs to evacuate into: a G1 heap kept above
 * about 80% full falls back to full collections and then to {@code OutOfMemoryError} under
 * allocation bursts, which is the failure this budget exists to prevent.
 */
public final class MemoryBudget {
  /** The configuration key: {@code auto}, or a size ({@code 4g}, {@code 512m}, bytes). */
  public static final String CONFIG_KEY = "mmumesh.mesh.memory-budget";

  /** The default budget's share of the maximum heap, percent. */
  public static final int DEFAULT_PERCENT = 75;

  private final long budgetBytes;
  private long reservedBytes;

  /** A budget of {@code budgetBytes} (0 refuses everything that takes memory). */
  public MemoryBudget(long budgetBytes) {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException(
          CONFIG_KEY + ": " + budgetBytes + " is negative; allowed: 0 or more bytes, or auto");
    }
    this.budgetBytes = budgetBytes;
  }

  /** No limit (a stub simulation, or a test that does not exercise the budget). */
  public static MemoryBudget unlimited() {
    return new MemoryBudget(Long.MAX_VALUE);
  }

  /**
   * The default: {@value #DEFAULT_PERCENT}% of {@code maxHeap} minus {@code usedHeap}, at least 0.
   */
  public static long defaultBytes(long maxHeap, long usedHeap) {
    return Math.max(0, maxHeap / 100 * DEFAULT_PERCENT - usedHeap);
  }

  /**
   * The budget {@code config} sets at {@value #CONFIG_KEY}: {@code auto} (the default, from this
   * JVM's heap) or a size in HOCON's notation.
   *
   * @throws IllegalArgumentException naming the key and the allowed values when it is neither
   */
  public static MemoryBudget fromConfig(Config config) {
    if (!config.hasPath(CONFIG_KEY)
        || "auto".equals(config.getString(CONFIG_KEY).trim().toLowerCase(Locale.ROOT))) {
      Runtime rt = Runtime.getRuntime();
      return new MemoryBudget(defaultBytes(rt.maxMemory(), rt.totalMemory() - rt.freeMemory()));
    }
    try {
      return new MemoryBudget(config.getBytes(CONFIG_KEY));
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          CONFIG_KEY
              + ": "
              + config.getValue(CONFIG_KEY).render()
              + " is not a size; allowed: auto, or bytes with an optional unit (512m, 4g)");
    }
  }

  /** The budget, bytes. */
  public long budgetBytes() {
    return budgetBytes;
  }

  /** Bytes reserved now. */
  public synchronized long reservedBytes() {
    return reservedBytes;
  }

  /** Bytes left now. */
  public synchronized long leftBytes() {
    return budgetBytes - reservedBytes;
  }

  /**
   * Reserves {@code bytes} for {@code what}; a LIMIT naming the numbers and {@code drivenBy} (the
   * request fields that size it) when they do not fit.
   */
  public synchronized Reservation reserve(String what, String drivenBy, long bytes) {
    take(what, drivenBy, bytes);
    return new Reservation(bytes);
  }

  /** Reserves a projected footprint; the refusal names its largest part. */
  public Reservation reserve(String what, FootprintEstimator.Footprint f) {
    FootprintEstimator.Part p = f.largest();
    return reserve(what, p.drivenBy() + " (" + p.what() + ": " + size(p.bytes()) + ")", f.bytes());
  }

  private void take(String what, String drivenBy, long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes: " + bytes + " is negative");
    }
    long left = budgetBytes - reservedBytes;
    if (bytes > left) {
      throw SimulationException.limit(
          "memory budget: "
              + what
              + " needs "
              + size(bytes)
              + ", driven by "
              + drivenBy
              + "; "
              + size(left)
              + " of the node's "
              + size(budgetBytes)
              + " budget are left ("
              + size(reservedBytes)
              + " reserved); delete VMs or hosts first, or raise the budget (--memory-budget of"
              + " serve and demo, "
              + CONFIG_KEY
              + ") or the heap it is derived from (-Xmx)");
    }
    reservedBytes += bytes;
  }

  private synchronized void give(long bytes) {
    reservedBytes -= bytes;
  }

  /** {@code 152240128 bytes (145.2 MiB)}. */
  static String size(long bytes) {
    if (bytes == Long.MAX_VALUE) {
      return "unlimited bytes";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return bytes + " bytes" + (u < 0 ? "" : String.format(Locale.ROOT, " (%.1f %s)", v, units[u]));
  }

  /** Bytes held from the budget until {@link #close}d (idempotent); may grow. */
  public final class Reservation implements AutoCloseable {
    private long bytes;
    private boolean closed;

    private Reservation(long bytes) {
      this.bytes = bytes;
    }

    /** Bytes held. */
    public long bytes() {
      synchronized (MemoryBudget.this) {
        return bytes;
      }
    }

    /**
     * Adds {@code more} bytes for {@code what}; a LIMIT (nothing added) when they do not fit, as
     * {@link MemoryBudget#reserve}.
     */
    public void grow(String what, String drivenBy, long more) {
      synchronized (MemoryBudget.this) {
        if (closed) {
          throw new IllegalStateException("reservation: closed");
        }
        take(what, drivenBy, more);
        bytes += more;
      }
    }

    /** Gives the bytes back (once). */
    @Override
    public void close() {
      synchronized (MemoryBudget.this) {
        if (!closed) {
          closed = true;
          give(bytes);
        }
      }
    }
  }

  @Override
  public String toString() {
    return "MemoryBudget[" + size(budgetBytes) + ", " + size(reservedBytes()) + " reserved]";
  }
}
