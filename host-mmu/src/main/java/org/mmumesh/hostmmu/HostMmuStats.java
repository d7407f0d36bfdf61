package org.mmumesh.hostmmu;

import java.util.EnumMap;
import java.util.Map;

/**
 * Plain long counters of the host MMU. Each component ({@link ShadowPteCache}, {@link HostHtab},
 * {@link SidMap}, {@link HostMmuCore}) keeps one instance and bumps its own counters; {@link
 * HostMmuCore#stats()} sums them into a fresh snapshot. Not thread-safe.
 */
public final class HostMmuStats {

  /** The counters. Names say what one increment means. */
  public enum Counter {
    /** A read-write host HPTE installed by map_page. */
    INSTALLS_RW,
    /** A read-only host HPTE installed by map_page (0x193 or PP 1). */
    INSTALLS_RO,
    /** A host HPTE installed with N (64-bit host, guest no-execute). */
    INSTALLS_NOEXEC,
    /** map_page called mark_page_dirty (a writable host HPTE was installed). */
    MARK_DIRTY,
    /** A valid host HPTE was overwritten or removed to make room for an insertion. */
    HTAB_EVICTIONS,
    /** Q5: an eviction left the victim's shadow-cache record in place (stale). */
    Q5_STALE_RECORDS,
    /** An invalidation removed a valid host HPTE. */
    HTAB_INVALIDATIONS,
    /** An invalidation found nothing to remove (64-bit: slot empty or AVPN differs). */
    HTAB_INVALIDATE_MISSES,
    /** Q5: a 32-bit invalidation zeroed a slot that held a different VPN than recorded. */
    HTAB_Q5_CLOBBERS,
    /** A shadow-cache entry was invalidated, any cause. */
    CACHE_INVALIDATIONS,
    /** {@code pte_flush} with mask ~0xFFF. */
    FLUSH_PAGE_CALLS,
    /** {@code pte_flush} with mask 0x0FFFF000. */
    FLUSH_LONG_CALLS,
    /** {@code pte_flush} with mask 0, and every other flush-everything (cache full, VSIDs). */
    FLUSH_ALL_CALLS,
    /** {@code pte_vflush} with mask 0xFFFFFFFFF. */
    VFLUSH_4K_CALLS,
    /** {@code pte_vflush} with mask 0xFFFFFFFF0. */
    VFLUSH_64K_CALLS,
    /** {@code pte_vflush} with mask 0xFFFFFF000. */
    VFLUSH_LONG_CALLS,
    /** {@code pte_pflush}. */
    PFLUSH_CALLS,
    /** A flush or vflush with a mask the kernel does not support: a warning and a no-op. */
    UNSUPPORTED_MASK_NOOPS,
    /** {@code hpte_cache_next} found 32768 entries and flushed everything first. */
    CACHE_FULL_FLUSHES,
    /** A SID map was created. */
    SID_MAPS_CREATED,
    /** The proto-VSID range ran out: range reset, SID map cleared, everything flushed. */
    VSID_EXHAUSTIONS,
    /** An MMU-notifier event handled in {@code full} mode (Q8): every vCPU flushed. */
    NOTIFIER_FULL_FLUSHES,
    /** An MMU-notifier event handled in {@code range} mode: a pflush on every vCPU. */
    NOTIFIER_RANGE_FLUSHES
  }

  private static final Counter[] COUNTERS = Counter.values();
  private static final InvalidationCause[] CAUSES = InvalidationCause.values();

  private final long[] counters = new long[COUNTERS.length];
  private final long[] invalidations = new long[CAUSES.length];

  /** All counters zero. */
  public HostMmuStats() {}

  /** The value of one counter. */
  public long get(Counter c) {
    return counters[c.ordinal()];
  }

  /** Shadow-cache entries invalidated for one cause. */
  public long invalidations(InvalidationCause cause) {
    return invalidations[cause.ordinal()];
  }

  void inc(Counter c) {
    counters[c.ordinal()]++;
  }

  void add(Counter c, long n) {
    counters[c.ordinal()] += n;
  }

  void invalidated(InvalidationCause cause) {
    invalidations[cause.ordinal()]++;
    counters[Counter.CACHE_INVALIDATIONS.ordinal()]++;
  }

  /** Adds every counter of {@code other} into this one. */
  void addAll(HostMmuStats other) {
    for (int i = 0; i < counters.length; i++) {
      counters[i] += other.counters[i];
    }
    for (int i = 0; i < invalidations.length; i++) {
      invalidations[i] += other.invalidations[i];
    }
  }

  /** The non-zero counters and invalidation causes, for reports. */
  public Map<String, Long> toMap() {
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    for (Counter c : COUNTERS) {
      if (counters[c.ordinal()] != 0) {
        m.put(c.name(), counters[c.ordinal()]);
      }
    }
    Map<InvalidationCause, Long> byCause = new EnumMap<>(InvalidationCause.class);
    for (InvalidationCause c : CAUSES) {
      if (invalidations[c.ordinal()] != 0) {
        byCause.put(c, invalidations[c.ordinal()]);
      }
    }
    byCause.forEach((c, n) -> m.put("INVALIDATED_" + c.name(), n));
    return m;
  }

  @Override
  public String toString() {
    return "HostMmuStats" + toMap();
  }

  /** The counters by name, zero ones left out (checkpoint; pure). */
  org.mmumesh.checkpoint.v1.HostMmuStatsState checkpoint() {
    var b = org.mmumesh.checkpoint.v1.HostMmuStatsState.newBuilder();
    for (Counter c : COUNTERS) {
      if (counters[c.ordinal()] != 0) {
        b.putCounters(c.name(), counters[c.ordinal()]);
      }
    }
    for (InvalidationCause c : CAUSES) {
      if (invalidations[c.ordinal()] != 0) {
        b.putInvalidations(c.name(), invalidations[c.ordinal()]);
      }
    }
    return b.build();
  }

  /**
   * Sets the counters from {@code s} (missing names: 0).
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming {@code field} and an unknown
   *     counter name
   */
  void restore(org.mmumesh.checkpoint.v1.HostMmuStatsState s, String field) {
    long[] c = new long[counters.length];
    long[] inv = new long[invalidations.length];
    s.getCountersMap().forEach((name, n) -> c[ordinal(COUNTERS, name, field + ".counters")] = n);
    s.getInvalidationsMap()
        .forEach((name, n) -> inv[ordinal(CAUSES, name, field + ".invalidations")] = n);
    System.arraycopy(c, 0, counters, 0, c.length);
    System.arraycopy(inv, 0, invalidations, 0, inv.length);
  }

  private static int ordinal(Enum<?>[] values, String name, String field) {
    for (Enum<?> e : values) {
      if (e.name().equals(name)) {
        return e.ordinal();
      }
    }
    throw new org.mmumesh.checkpoint.CheckpointMismatchException(
        field + ": unknown counter " + name + "; allowed " + java.util.Arrays.toString(values));
  }
}
