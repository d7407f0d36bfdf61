package org.mmumesh.vcpu;

import org.mmumesh.common.Checks;

/**
 * The livelock bound of one access (spec section 10): how many faults an access may take before it
 * is reported failed. The kernel has no such bound; it is a safety net against the model's own
 * loops (quirk Q7's ignored map failure faults again and again), and a correct run never reaches
 * it.
 *
 * <p><b>Faults forced by others do not count.</b> Under quirk Q8 every MMU notifier in the VM (a
 * KSM write-protect or replace, another vCPU's COW break) requests a full flush of every vCPU's
 * shadow PTEs, served at its next guest entry (spec 5.7). A vCPU whose retry after a fault is
 * preceded by such a flush faults again although its own fault made progress: the kernel does the
 * same under such notifier traffic, and keeps retrying, for as long as ksmd keeps merging. Its exit
 * takes microseconds there; the actor mesh's takes round trips, so with ksmd on a wall-clock timer
 * a slow machine sees many notifiers per exit (seven of eighteen unpaced runs failed accesses at 16
 * faults before). Such a fault, {@code forced}, is counted apart and bounded only by {@value
 * #FORCED_FACTOR} times the bound, which keeps a run finite should something loop through notifiers
 * for ever. Which flush is another's is the driver's knowledge: the vCPU actor marks a fault forced
 * when a flush it did not request itself (its fault broke no COW) emptied its shadow PTEs before
 * the access's retry; the sequential engine runs each access to its end, so nothing is ever forced
 * there.
 *
 * <p>Not thread-safe; one per vCPU.
 */
public final class LivelockBound {
  /** Forced faults one access may take, as a multiple of the bound. */
  public static final int FORCED_FACTOR = 64;

  private final int maxFaults;
  private int faults;
  private int forced;

  /**
   * A bound of {@code maxFaults} faults of the access's own per access.
   *
   * @param maxFaults 1 to 1000 (the configuration's {@code maxFaultsPerAccess})
   */
  public LivelockBound(int maxFaults) {
    this.maxFaults = (int) Checks.inRange("maxFaults", maxFaults, 1, 1000);
  }

  /** A new access begins: nothing counted. */
  public void startAccess() {
    faults = 0;
    forced = 0;
  }

  /**
   * Counts one fault of the access in progress.
   *
   * @param forcedByOthers the fault follows a flush another agent requested (see the class comment)
   * @return null if the access may take it, else the failure reason ("livelock: ...")
   */
  public String admit(boolean forcedByOthers) {
    if (forcedByOthers) {
      if (++forced > maxFaults * FORCED_FACTOR) {
        return "livelock: more than "
            + maxFaults * FORCED_FACTOR
            + " faults forced by other notifiers' flushes";
      }
      return null;
    }
    if (++faults > maxFaults) {
      return "livelock: more than " + maxFaults + " faults";
    }
    return null;
  }

  /** The bound: faults of its own one access may take. */
  public int maxFaults() {
    return maxFaults;
  }

  /** Faults of the access's own so far. */
  public int faults() {
    return faults;
  }

  /** Forced faults so far. */
  public int forced() {
    return forced;
  }
}
