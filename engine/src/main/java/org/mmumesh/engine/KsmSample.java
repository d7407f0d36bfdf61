package org.mmumesh.engine;

import java.util.Map;

/**
 * One point of the KSM time series: the kernel's counters (spec 7.5) beside the frames actually
 * saved (spec section 10), at a simulated time.
 *
 * @param simNanos simulated time
 * @param pagesShared KSM pages in use
 * @param pagesSharing additional mappings of them (the kernel's "pages saved")
 * @param pagesUnshared items in the unstable tree
 * @param pagesVolatile items whose content changed too fast to be compared
 * @param fullScans completed passes
 * @param framesSavedByKsm guest pages backed by a KSM frame minus the KSM frames backing them: what
 *     merging really saves at this instant
 * @param framesSaved guest pages backed by a frame minus distinct frames (the zero page included)
 */
public record KsmSample(
    long simNanos,
    long pagesShared,
    long pagesSharing,
    long pagesUnshared,
    long pagesVolatile,
    long fullScans,
    long framesSavedByKsm,
    long framesSaved) {

  /**
   * A sample from KSM's counters by their sysfs names ({@code pages_shared}, {@code pages_sharing},
   * {@code pages_unshared}, {@code pages_volatile}, {@code full_scans}; a missing one reads 0) and
   * the page frames' two savings figures, as a driver that reads them by name (the mesh, a gRPC
   * client) takes it.
   */
  public static KsmSample of(
      long simNanos, Map<String, Long> ksmCounters, long framesSavedByKsm, long framesSaved) {
    return new KsmSample(
        simNanos,
        ksmCounters.getOrDefault("pages_shared", 0L),
        ksmCounters.getOrDefault("pages_sharing", 0L),
        ksmCounters.getOrDefault("pages_unshared", 0L),
        ksmCounters.getOrDefault("pages_volatile", 0L),
        ksmCounters.getOrDefault("full_scans", 0L),
        framesSavedByKsm,
        framesSaved);
  }
}
