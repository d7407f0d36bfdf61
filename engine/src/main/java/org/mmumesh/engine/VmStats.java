package org.mmumesh.engine;

import java.util.EnumMap;
import java.util.Map;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;

/** One VM's (or a run's) {@link Counter}s. */
public final class VmStats {
  private final long[] counts = new long[Counter.COUNT];

  void inc(Counter s) {
    counts[s.ordinal()]++;
  }

  void add(Counter s, long n) {
    counts[s.ordinal()] += n;
  }

  /**
   * Counters built elsewhere, e.g. from the actor mesh's vCPU counters; absent stats are 0.
   *
   * @throws IllegalArgumentException naming the stat when a count is negative
   */
  public static VmStats of(Map<Counter, Long> counts) {
    VmStats v = new VmStats();
    for (Map.Entry<Counter, Long> e : counts.entrySet()) {
      if (e.getValue() < 0) {
        throw new IllegalArgumentException(
            e.getKey().name() + ": " + e.getValue() + " is negative; allowed 0 or more");
      }
      v.add(e.getKey(), e.getValue());
    }
    return v;
  }

  /** The counter's value. */
  public long get(Counter s) {
    return counts[s.ordinal()];
  }

  /** Adds {@code other}'s counters into this one. */
  public void addAll(VmStats other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
  }

  /** Counters {@code c} (a vCPU's, a VM's). */
  public static VmStats of(Counts c) {
    VmStats v = new VmStats();
    v.add(c);
    return v;
  }

  /** Adds counter vector {@code c} into this one. */
  public void add(Counts c) {
    for (Counter s : Counter.values()) {
      counts[s.ordinal()] += c.get(s);
    }
  }

  /** The counters as a vector. */
  public Counts counts() {
    return new Counts(counts);
  }

  /** The counters a run's result lists ({@link Counter#RUN}), by counter. */
  public Map<Counter, Long> toMap() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter s : Counter.RUN) {
      m.put(s, counts[s.ordinal()]);
    }
    return m;
  }
}
