package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.vcpu.VcpuCore;

/**
 * The failure texts a run reports: the first {@link VcpuCore#MAX_FAILURES_KEPT} in the order they
 * arrive, the rest dropped (the run's failed-access count is kept apart and stays exact). Used by
 * the drivers that gather failures from many vCPUs: the in-process mesh driver and the gRPC {@code
 * LockstepClient}.
 */
public final class RunFailures {
  private final List<String> kept = new ArrayList<>();

  /** Keeps {@code failure} if fewer than the cap are kept. */
  public void add(String failure) {
    if (kept.size() < VcpuCore.MAX_FAILURES_KEPT) {
      kept.add(failure);
    }
  }

  /** {@link #add} of each, in order. */
  public void addAll(List<String> failures) {
    for (String f : failures) {
      add(f);
    }
  }

  /** The failures kept, in arrival order (an immutable copy). */
  public List<String> kept() {
    return List.copyOf(kept);
  }
}
