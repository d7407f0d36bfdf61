/**
 * The page frames' actor shell (architecture section 4): {@link
 * org.mmumesh.pageframe.actor.PageFrame}, the per-host Cluster Sharding entity {@code host-<h>}
 * that owns the cores of {@code org.mmumesh.pageframe} (module page-frame) and, through the {@link
 * org.mmumesh.pageframe.FrameScanner} plug-in, ksmd's scan state.
 *
 * <ul>
 *   <li>Protocols, one per area: {@link org.mmumesh.pageframe.actor.FaultProtocol} ({@code
 *       gfn_to_pfn_prot}, leases, notifier events and acknowledgements), {@link
 *       org.mmumesh.pageframe.actor.MemslotProtocol}, {@link
 *       org.mmumesh.pageframe.actor.FrameContentsProtocol} (stores and reads of frame contents),
 *       {@link org.mmumesh.pageframe.actor.KsmProtocol} (ksmd: its controls, schedule, batches and
 *       counters; the one KSM protocol).
 *   <li>Sub-shells: {@link org.mmumesh.pageframe.actor.NotifierRounds} (a reply held until every
 *       host MMU acknowledged an invalidation), {@link org.mmumesh.pageframe.actor.Leases} (the
 *       SRCU-like memslot leases and page references), {@link
 *       org.mmumesh.pageframe.actor.FrameContents}, {@link org.mmumesh.pageframe.actor.KsmShell};
 *       settings in {@link org.mmumesh.pageframe.actor.PageFrameConfig}.
 * </ul>
 *
 * <p>Design: docs/design.md.
 */
package org.mmumesh.pageframe.actor;
