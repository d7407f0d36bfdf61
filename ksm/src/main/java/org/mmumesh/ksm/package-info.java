/**
 * ksmd of one simulated host with the 2013 kernel's semantics (spec section 7, {@code mm/ksm.c} of
 * v3.10-v3.13): the stable and unstable trees, checksum gating, {@code cmp_and_merge_page}, the
 * counters exactly as {@code /sys/kernel/mm/ksm/} shows them (spec 7.5) and their lag behind COW
 * breaks (spec 7.6); design: docs/design.md.
 *
 * <ul>
 *   <li>Cores (no Pekko): {@link org.mmumesh.ksm.KsmScanner} (the scan loop, spec 7.3 and 7.4) over
 *       {@link org.mmumesh.ksm.StableTree}, {@link org.mmumesh.ksm.RmapItems} and {@link
 *       org.mmumesh.ksm.MergeableRegion}s; {@link org.mmumesh.ksm.WriteProtectGate}, the hook that
 *       makes a merge wait until the host MMUs acknowledged its write-protect; {@link
 *       org.mmumesh.ksm.KsmAudit} (incremental counter checks).
 *   <li>Shell: {@link org.mmumesh.ksm.actor.Ksm}, the per-host actor (schedule, controls, merge
 *       handshake); the scan itself runs inside the host's {@code PageFrame} actor through {@link
 *       org.mmumesh.ksm.KsmFrameScanner}. Planned to move to {@code org.mmumesh.ksm.actor}.
 * </ul>
 */
package org.mmumesh.ksm;
