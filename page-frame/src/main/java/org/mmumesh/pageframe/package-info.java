/**
 * The host side of guest memory for one simulated host, as pure cores (no Pekko): page frames, each
 * VM's host address space and memslots, {@code gfn_to_pfn_prot} with its {@code writable} answer
 * (spec 5.1), copy-on-write ({@code do_wp_page}, spec 7.6), MMU-notifier invalidations (spec 5.7),
 * the SRCU-like memslot leases (spec 8.8 TV61) and the page operations KSM performs (spec 7.4);
 * design: docs/design.md.
 *
 * <ul>
 *   <li>{@link org.mmumesh.pageframe.PageFrames} over {@link org.mmumesh.pageframe.FrameTable}
 *       (frames as primitive arrays), {@link org.mmumesh.pageframe.HostMm} (a VM's host PTEs) and
 *       {@link org.mmumesh.pageframe.Memslots}; its parts, one per concern: {@link
 *       org.mmumesh.pageframe.HostFaults} (faults, copy-on-write, zero page), {@link
 *       org.mmumesh.pageframe.KsmPageOps} (KSM's page operations), {@link
 *       org.mmumesh.pageframe.FrameRefs} (map counts and savings accounting), {@link
 *       org.mmumesh.pageframe.HostNotifiers} (MMU notifiers, frame events) and {@link
 *       org.mmumesh.pageframe.SlotUpdates} (memslot updates);
 *   <li>{@link org.mmumesh.pageframe.FaultPageRefs} (the page references faults in flight hold);
 *       {@link org.mmumesh.pageframe.NotifierRound} (one invalidation's outstanding
 *       acknowledgements); {@link org.mmumesh.pageframe.FrameAudit} (incremental invariant checks);
 *   <li>the {@link org.mmumesh.pageframe.FrameScanner} plug-in through which ksmd's scan runs on
 *       the frames.
 * </ul>
 *
 * <p><b>Checkpoints</b> (issue 13): {@link org.mmumesh.pageframe.PageFrames#checkpoint()} and
 * {@link org.mmumesh.pageframe.PageFrames#restore} write and rebuild the whole host side ({@code
 * PageFramesState} of {@code mmumesh.checkpoint.v1}; what is written and what is wiring: {@link
 * org.mmumesh.pageframe.PageFramesCheckpoint}); {@link
 * org.mmumesh.pageframe.FaultPageRefs#checkpoint()} and its {@code restore} the fault references.
 *
 * <p>The sequential engine calls these cores directly; on the mesh the per-host actor {@code
 * PageFrame} of {@code org.mmumesh.pageframe.actor} (module page-frame-actor) owns them. Page
 * frames name nothing of the host MMU (an architecture test checks it): they report invalidations
 * through the listener types defined here ({@link org.mmumesh.pageframe.MmuNotifierListener},
 * {@link org.mmumesh.pageframe.SlotUpdateListener}, {@link
 * org.mmumesh.pageframe.FrameEventListener}).
 */
package org.mmumesh.pageframe;
