/**
 * The guest MMU's actor shell (architecture section 4): {@link
 * org.mmumesh.guestmmu.actor.GuestMmu}, the per-VM Cluster Sharding entity {@code vm-<v>} that owns
 * the cores of {@code org.mmumesh.guestmmu} (module guest-mmu) and routes messages to them: {@code
 * Xlate}, HPTE and R/C reads and writes, per-vCPU state changes and guest {@code tlbie}.
 *
 * <p>Its protocol is {@link org.mmumesh.guestmmu.actor.GuestMmuProtocol} (translation, vCPU state)
 * and {@link org.mmumesh.guestmmu.actor.GuestHtabProtocol} (HTAB words); {@link
 * org.mmumesh.guestmmu.actor.TlbieSync} carries out the guest's {@code tlbie; tlbsync} against the
 * host MMU and remembers replies for idempotent retries. Design: docs/design.md.
 */
package org.mmumesh.guestmmu.actor;
