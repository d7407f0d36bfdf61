package org.mmumesh.engine;

import java.util.EnumMap;
import java.util.Map;

/** One VM's {@link Stat} counters. */
public final class VmStats {
  private final long[] counts = new long[Stat.values().length];

  void inc(Stat s) {
    counts[s.ordinal()]++;
  }

  void add(Stat s, long n) {
    counts[s.ordinal()] += n;
  }

  /**
   * Counters built elsewhere, e.g. from the actor mesh's vCPU counters; absent stats are 0.
   *
   * @throws IllegalArgumentException naming the stat when a count is negative
   */
  public static VmStats of(Map<Stat, Long> counts) {
    VmStats v = new VmStats();
    for (Map.Entry<Stat, Long> e : counts.entrySet()) {
      if (e.getValue() < 0) {
        throw new IllegalArgumentException(
            e.getKey().name() + ": " + e.getValue() + " is negative; allowed 0 or more");
      }
      v.add(e.getKey(), e.getValue());
    }
    return v;
  }

  /** The counter's value. */
  public long get(Stat s) {
    return counts[s.ordinal()];
  }

  /** Adds {@code other}'s counters into this one. */
  public void addAll(VmStats other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
  }

  /** Every counter by name. */
  public Map<Stat, Long> toMap() {
    Map<Stat, Long> m = new EnumMap<>(Stat.class);
    for (Stat s : Stat.values()) {
      m.put(s, counts[s.ordinal()]);
    }
    return m;
  }
}
