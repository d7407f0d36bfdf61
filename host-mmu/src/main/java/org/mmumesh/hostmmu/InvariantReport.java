package org.mmumesh.hostmmu;

import java.util.List;

/**
 * The result of {@link HostMmuCore#checkInvariants()}.
 *
 * @param violations human-readable violations; empty when every invariant holds
 * @param liveEntries cache entries whose host HPTE is present and matches
 * @param staleEntries cache entries whose host HPTE is gone or belongs to another entry (allowed
 *     only with Q5 on)
 * @param unreachableEntries live entries whose host VSID no longer appears in their vCPU's SID map
 *     (the map was overwritten; kernel behaviour, harmless until a flush)
 * @param htabValid valid host HPTEs
 */
public record InvariantReport(
    List<String> violations,
    int liveEntries,
    int staleEntries,
    int unreachableEntries,
    int htabValid) {

  /** Copies the list. */
  public InvariantReport {
    violations = List.copyOf(violations);
  }

  /** True when there is no violation. */
  public boolean ok() {
    return violations.isEmpty();
  }
}
