/**
 * The host side of PR KVM's MMU (spec section 5), as pure Java cores with no actor imports, and the
 * actor that drives them.
 *
 * <ul>
 *   <li>{@link org.mmumesh.hostmmu.HostMmuCore}: one VM's host MMU; {@code mapPage}, {@code
 *       unmapPage}, the fast-path {@code lookup}, flushes and MMU-notifier modes, statistics and an
 *       invariant check.
 *   <li>{@link org.mmumesh.hostmmu.ShadowPteCache}: the per-vCPU shadow-PTE cache with its five
 *       hash indexes and the 2^15 cap (spec 5.6).
 *   <li>{@link org.mmumesh.hostmmu.HostHtab}: the host hashed page table, 64-bit and 32-bit formats
 *       and insertion policies, quirk Q5 (spec 5.3, 5.4).
 *   <li>{@link org.mmumesh.hostmmu.SidMap}: guest VSID to host VSID (spec 5.2), with the host-wide
 *       {@link org.mmumesh.hostmmu.SidMapToggle} and the VSID allocators.
 *   <li>{@link org.mmumesh.hostmmu.actor.HostMmu}: the per-VM actor shell (architecture section 4):
 *       lookups, map/unmap, guest tlbie, MMU-notifier invalidations with the {@code
 *       mmu_notifier_retry} guard ({@link org.mmumesh.hostmmu.MmuNotifierGuard}), the TLB shootdown
 *       that precedes every acknowledgement of a removal ({@link
 *       org.mmumesh.hostmmu.ShootdownRound}), idempotent retries (the shell kit's {@link
 *       org.mmumesh.shell.LastReplies}) and the sharding entity {@code vm-<v>}.
 * </ul>
 */
package org.mmumesh.hostmmu;
