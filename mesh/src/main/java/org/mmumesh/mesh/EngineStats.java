package org.mmumesh.mesh;

import java.util.EnumMap;
import java.util.Map;
import org.mmumesh.engine.Stat;
import org.mmumesh.engine.VmStats;

/**
 * Maps the mesh's counters (names of {@code VcpuCounters.toMap()} and the guest kernel's events,
 * upper case) onto the engine's {@link Stat}s, so that a mesh run can be reported as a {@code
 * RunResult} (the CLI's tables and HTML reports read that type, built with {@link VmStats#of}).
 */
final class EngineStats {
  private EngineStats() {}

  /** The {@link Stat}s named in {@code counters} (other names are ignored; absent ones are 0). */
  static Map<Stat, Long> statsOf(Map<String, Long> counters) {
    Map<Stat, Long> m = new EnumMap<>(Stat.class);
    for (Stat s : Stat.values()) {
      m.put(s, counters.getOrDefault(s.name(), 0L));
    }
    return m;
  }
}
