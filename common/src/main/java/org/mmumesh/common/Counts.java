package org.mmumesh.common;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An immutable counter vector: one value per {@link Counter}, indexed by its ordinal. A vCPU's
 * counters ({@code Vcpu.StatusReport}, {@code Vcpu.BatchDone}), a VM's and a run's totals are all
 * this one type, so no counter is joined by name or position anywhere.
 *
 * @param values one value per counter, in {@link Counter} order ({@link Counter#COUNT} of them)
 */
public record Counts(long[] values) implements CborSerializable {
  private static final Counts ZERO = new Counts(new long[Counter.COUNT]);

  /**
   * @throws IllegalArgumentException when {@code values} is not one non-negative value per counter
   */
  public Counts {
    if (values == null || values.length != Counter.COUNT) {
      throw new IllegalArgumentException(
          "values: "
              + (values == null ? "null" : values.length + " values")
              + "; allowed exactly "
              + Counter.COUNT
              + " (one per Counter)");
    }
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0) {
        throw new IllegalArgumentException(
            Counter.values()[i].name() + ": " + values[i] + " is negative; allowed 0 or more");
      }
    }
    values = values.clone();
  }

  /** Every counter 0: a vCPU that never ran. */
  public static Counts zero() {
    return ZERO;
  }

  /** The counters in {@code m} (absent ones are 0). */
  public static Counts of(Map<Counter, Long> m) {
    long[] v = new long[Counter.COUNT];
    m.forEach((c, n) -> v[c.ordinal()] += n);
    return new Counts(v);
  }

  /** The counter's value. */
  public long get(Counter c) {
    return values[c.ordinal()];
  }

  /** A copy of the vector (the record's accessor would expose the array). */
  @Override
  public long[] values() {
    return values.clone();
  }

  /** The element-wise sum of this and {@code other}. */
  public Counts plus(Counts other) {
    long[] v = values.clone();
    for (int i = 0; i < v.length; i++) {
      v[i] += other.values[i];
    }
    return new Counts(v);
  }

  /** Every counter (all sources), in declaration order. */
  public Map<Counter, Long> toEnumMap() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter c : Counter.values()) {
      m.put(c, values[c.ordinal()]);
    }
    return m;
  }

  /**
   * The counters a vCPU keeps ({@link Counter#VCPU}) by enum name (upper case), in declaration
   * order.
   */
  public Map<String, Long> toMap() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Counter c : Counter.VCPU) {
      m.put(c.name(), values[c.ordinal()]);
    }
    return m;
  }

  /**
   * The counters a vCPU keeps ({@link Counter#VCPU}) by {@linkplain Counter#wireName() wire name}
   * (lower case, as gRPC and Prometheus carry them), in declaration order.
   */
  public Map<String, Long> toWireMap() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Counter c : Counter.VCPU) {
      m.put(c.wireName(), values[c.ordinal()]);
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Counts c && Arrays.equals(values, c.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "Counts" + toMap();
  }
}
