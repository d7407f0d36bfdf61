package org.mmumesh.mesh;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.EnumMap;
import java.util.Map;
import org.mmumesh.engine.Stat;
import org.mmumesh.engine.VmStats;

/**
 * Builds the engine's {@link VmStats} from the mesh's counters, so that a mesh run can be reported
 * as a {@code RunResult} (the CLI's tables and HTML reports read that type).
 *
 * <p><b>Workaround.</b> {@link VmStats} has a public constructor but its setters ({@code inc},
 * {@code add}) are package-private in {@code engine}, a module this one may not change; this class
 * calls {@code add(Stat, long)} reflectively. The integrator should give {@code VmStats} a public
 * factory (for example {@code VmStats.of(Map<Stat, Long>)}) and replace {@link #of} with it. A
 * change of that method's signature fails here loudly ({@link IllegalStateException}), and the
 * mesh's tests cover it.
 */
final class EngineStats {
  private static final Method ADD = addMethod();

  private EngineStats() {}

  /** The {@link Stat}s named in {@code counters} (other names are ignored; absent ones are 0). */
  static Map<Stat, Long> statsOf(Map<String, Long> counters) {
    Map<Stat, Long> m = new EnumMap<>(Stat.class);
    for (Stat s : Stat.values()) {
      m.put(s, counters.getOrDefault(s.name(), 0L));
    }
    return m;
  }

  /** A {@link VmStats} holding {@code stats}. */
  static VmStats of(Map<Stat, Long> stats) {
    VmStats v = new VmStats();
    try {
      for (Map.Entry<Stat, Long> e : stats.entrySet()) {
        ADD.invoke(v, e.getKey(), e.getValue());
      }
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("VmStats.add(Stat, long) could not be called: " + e, e);
    }
    return v;
  }

  private static Method addMethod() {
    try {
      Method m = VmStats.class.getDeclaredMethod("add", Stat.class, long.class);
      m.setAccessible(true);
      return m;
    } catch (NoSuchMethodException | RuntimeException e) {
      throw new IllegalStateException(
          "VmStats.add(Stat, long) not found; engine's VmStats changed: " + e, e);
    }
  }
}
