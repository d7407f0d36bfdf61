/**
 * ksmd's actor shell (spec 7.1 and 7.3; architecture section 4, "KSM merge"): {@link
 * org.mmumesh.ksm.actor.Ksm}, the per-host entity that owns ksmd's schedule ({@code
 * sleep_millisecs}, {@code pages_to_scan}), the {@code run} control, madvise requests, lockstep
 * stepping and the merge handshake's continuation. The scan itself, with the trees and counters of
 * {@code org.mmumesh.ksm}, runs inside the host's {@link org.mmumesh.pageframe.actor.PageFrame}
 * actor through {@link org.mmumesh.ksm.KsmFrameScanner}; this actor asks for it by {@code KsmScan}.
 * Design: docs/design.md.
 */
package org.mmumesh.ksm.actor;
