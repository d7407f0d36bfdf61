/**
 * The host side of PR KVM's MMU (spec section 5) as pure cores (no Pekko); design: docs/design.md.
 *
 * <ul>
 *   <li>{@link org.mmumesh.hostmmu.HostMmuCore}: one VM's host MMU; {@code mapPage}, {@code
 *       unmapPage}, the fast-path lookup, flushes and MMU-notifier modes, statistics and an
 *       invariant check ({@link org.mmumesh.hostmmu.HostMmuAudit}).
 *   <li>{@link org.mmumesh.hostmmu.ShadowPteCache}: the per-vCPU shadow-PTE cache with its five
 *       hash indexes and the 2^15 cap (spec 5.6).
 *   <li>{@link org.mmumesh.hostmmu.HostHtab}: the host hashed page table, 64-bit and 32-bit formats
 *       and insertion policies, quirk Q5 (spec 5.3, 5.4).
 *   <li>{@link org.mmumesh.hostmmu.SidMap}: guest VSID to host VSID (spec 5.2), with the host-wide
 *       {@link org.mmumesh.hostmmu.SidMapToggle} and the VSID allocators.
 *   <li>{@link org.mmumesh.hostmmu.MmuNotifierGuard} ({@code mmu_notifier_retry}, spec 5.7) and
 *       {@link org.mmumesh.hostmmu.ShootdownRound} (the TLB shootdown that precedes every
 *       acknowledgement of a removal), the rules the actor shell applies.
 * </ul>
 *
 * <p><b>Checkpoints</b> (issue 13): {@link org.mmumesh.hostmmu.HostMmuCore#checkpoint()} and {@code
 * HostMmuCore.restore(state, config[, toggle])} write and rebuild a VM's host MMU ({@code
 * HostMmuState}; see {@link org.mmumesh.hostmmu.HostMmuCheckpoint}); the host-wide {@link
 * org.mmumesh.hostmmu.SidMapToggle} and the shell's {@link org.mmumesh.hostmmu.MmuNotifierGuard}
 * have their own {@code checkpoint()} and {@code restore}.
 *
 * <p>The sequential engine calls these cores directly; on the mesh the per-VM actor {@code HostMmu}
 * of {@code org.mmumesh.hostmmu.actor} (module host-mmu-actor) owns them.
 */
package org.mmumesh.hostmmu;
