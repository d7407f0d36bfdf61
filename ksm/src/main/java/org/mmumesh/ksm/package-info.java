/**
 * ksmd of one simulated host with the 2013 kernel's semantics as pure cores (no Pekko; spec section
 * 7, {@code mm/ksm.c} of v3.10-v3.13): the stable and unstable trees, checksum gating, {@code
 * cmp_and_merge_page}, the counters exactly as {@code /sys/kernel/mm/ksm/} shows them (spec 7.5)
 * and their lag behind COW breaks (spec 7.6); design: docs/design.md.
 *
 * <ul>
 *   <li>{@link org.mmumesh.ksm.KsmScanner} (the scan loop and {@code cmp_and_merge_page}, spec 7.3
 *       and 7.4), split by structure: {@link org.mmumesh.ksm.MmList} (the mm_slots, their {@link
 *       org.mmumesh.ksm.MergeableRegion}s and the scan cursor), {@link org.mmumesh.ksm.StableNodes}
 *       over {@link org.mmumesh.ksm.StableTree}, {@link org.mmumesh.ksm.UnstableNodes} over {@link
 *       org.mmumesh.ksm.UnstableTree}, {@link org.mmumesh.ksm.RmapItems} and {@link
 *       org.mmumesh.ksm.KsmCounters};
 *   <li>{@link org.mmumesh.ksm.WriteProtectGate}, the hook that makes a merge wait until the host
 *       MMUs acknowledged its write-protect;
 *   <li>{@link org.mmumesh.ksm.KsmFrameScanner}, the page frames' {@link
 *       org.mmumesh.pageframe.FrameScanner} plug-in through which the scan runs on a host's frames;
 *   <li>{@link org.mmumesh.ksm.KsmAudit} (incremental counter checks).
 * </ul>
 *
 * <p><b>Checkpoints</b> (issue 13): {@link org.mmumesh.ksm.KsmScanner#checkpoint()} and {@code
 * KsmScanner.restore(state, pageFrames[, gate])} (and the same on {@link
 * org.mmumesh.ksm.KsmFrameScanner}) write and rebuild ksmd, in the middle of a pass too ({@code
 * KsmState}; see {@link org.mmumesh.ksm.KsmCheckpoint}); restore the host's page frames first.
 *
 * <p>On the mesh ksmd runs whole inside the host's {@code PageFrame} entity (module
 * page-frame-actor): the scan, the trees and the controls through {@link
 * org.mmumesh.ksm.KsmFrameScanner}, the timer and the one KSM protocol ({@code KsmProtocol}) in its
 * shell; design: docs/design.md, section 3a.
 */
package org.mmumesh.ksm;
