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
