/**
 * The guest side of the MMU: what a Book3S guest's hashed page table and segment state answer to
 * KVM's {@code xlate} (spec sections 2, 3 and 4), the guest kernel model that handles the faults
 * reflected to it, and the actor that serves one VM's guest MMU (design: docs/design.md).
 *
 * <ul>
 *   <li>Cores (no Pekko): {@link org.mmumesh.guestmmu.Hash32Mmu} ({@code book3s_32_mmu.c}: SRs,
 *       BATs, PP x key, spec 2) and {@link org.mmumesh.guestmmu.Hash64Mmu} ({@code
 *       book3s_64_mmu.c}: SLB, AVPN, PP0/PP/key, N, spec 3), sharing {@link
 *       org.mmumesh.guestmmu.XlateRules} (the policy rules of spec 1) over a {@link
 *       org.mmumesh.guestmmu.GuestHtab}; per-vCPU state in {@link org.mmumesh.guestmmu.Cpu32State}
 *       / {@link org.mmumesh.guestmmu.Cpu64State}; one VM behind {@link
 *       org.mmumesh.guestmmu.GuestMmuPort} ({@link org.mmumesh.guestmmu.Guest32}, {@link
 *       org.mmumesh.guestmmu.Guest64}); {@link org.mmumesh.guestmmu.GuestKernel}, the guest's
 *       demand mapping and segment loads.
 *   <li>Shell: {@link org.mmumesh.guestmmu.actor.GuestMmu}, the per-VM actor ({@code Xlate}, HPTE
 *       and R/C reads and writes, per-vCPU state changes, guest {@code tlbie}). Planned to move to
 *       {@code org.mmumesh.guestmmu.actor}.
 * </ul>
 *
 * <p>Nothing here names the host MMU (an architecture test checks it): a guest {@code tlbie} is
 * answered with a {@link org.mmumesh.common.HostFlush} that the host side carries out.
 */
package org.mmumesh.guestmmu;
