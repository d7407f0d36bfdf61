package org.mmumesh.hostmmu.actor;

import java.util.LinkedHashMap;
import java.util.Map;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.InvariantReport;
import org.mmumesh.hostmmu.ShellCounter;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.InvariantsReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.StatsReply;

/**
 * The {@link HostMmu}'s read-only reports (audit and statistics), built from its core and shell
 * state; answered at once, also while a shootdown is in flight, each with the current epoch.
 */
final class HostMmuReports {
  private static final ShellCounter[] SHELL_COUNTERS = ShellCounter.values();

  private HostMmuReports() {}

  /** The core's counters ({@link HostMmuStats#toMap()}), then the shell's non-zero ones. */
  static StatsReply stats(
      HostMmuCore core, long[] shellCounters, long epoch, long latestNotifierSeq, int subscribers) {
    Map<String, Long> counters = new LinkedHashMap<>(core.stats().toMap());
    for (ShellCounter c : SHELL_COUNTERS) {
      if (shellCounters[c.ordinal()] != 0) {
        counters.put(c.name(), shellCounters[c.ordinal()]);
      }
    }
    return new StatsReply(counters, epoch, latestNotifierSeq, subscribers);
  }

  /**
   * {@link HostMmuCore#checkInvariants()}, or with {@code incremental} what changed since the
   * previous incremental check ({@link HostMmuCore#checkInvariantsIncremental}).
   */
  static InvariantsReply invariants(HostMmuCore core, boolean incremental, long epoch) {
    InvariantReport r =
        incremental ? core.checkInvariantsIncremental(null) : core.checkInvariants();
    return new InvariantsReply(
        r.violations(),
        r.liveEntries(),
        r.staleEntries(),
        r.unreachableEntries(),
        r.htabValid(),
        epoch);
  }
}
