package org.mmumesh.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmumesh.proto.v1.Counter;

/** Counters by name to the API's {@code repeated Counter}, sorted by name. */
final class Counters {
  private Counters() {}

  static List<Counter> of(Map<String, Long> counters) {
    List<Counter> out = new ArrayList<>();
    new TreeMap<>(counters)
        .forEach((k, v) -> out.add(Counter.newBuilder().setName(k).setValue(v).build()));
    return out;
  }
}
