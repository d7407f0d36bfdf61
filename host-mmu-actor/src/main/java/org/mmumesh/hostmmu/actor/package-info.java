/**
 * The host MMU's actor shell (architecture section 4): {@link org.mmumesh.hostmmu.actor.HostMmu},
 * the per-VM Cluster Sharding entity that owns the cores of {@code org.mmumesh.hostmmu} (module
 * host-mmu): lookups, map/unmap, guest tlbie, MMU-notifier invalidations under the {@code
 * mmu_notifier_retry} guard, and idempotent retries (the shell kit's {@link
 * org.mmumesh.shell.LastReplies}).
 *
 * <ul>
 *   <li>{@link org.mmumesh.hostmmu.actor.HostMmuProtocol}: the messages and replies;
 *   <li>{@link org.mmumesh.hostmmu.actor.TlbSubscribers}: the vCPU TLBs of the VM and the shootdown
 *       round that precedes every acknowledgement of a removal;
 *   <li>{@link org.mmumesh.hostmmu.actor.NotifierAdapter} (a host's page-frame notifier events to
 *       this VM's host MMU, one per VM per node) and {@link org.mmumesh.hostmmu.actor.TlbieAdapter}
 *       (the guest MMU's host flushes);
 *   <li>{@link org.mmumesh.hostmmu.actor.HostMmuReports}: statistics replies.
 * </ul>
 *
 * <p>Design: docs/design.md.
 */
package org.mmumesh.hostmmu.actor;
