package org.mmumesh.engine;

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
    long framesSaved) {}
