/**
 * The guest side of the MMU as pure cores (no Pekko): what a Book3S guest's hashed page table and
 * segment state answer to KVM's {@code xlate} (spec sections 2, 3 and 4), and the guest kernel
 * model that handles the faults reflected to it (design: docs/design.md).
 *
 * <ul>
 *   <li>{@link org.mmumesh.guestmmu.Hash32Mmu} ({@code book3s_32_mmu.c}: SRs, BATs, PP x key, spec
 *       2) and {@link org.mmumesh.guestmmu.Hash64Mmu} ({@code book3s_64_mmu.c}: SLB, AVPN,
 *       PP0/PP/key, N, spec 3), sharing {@link org.mmumesh.guestmmu.XlateRules} (the policy rules
 *       of spec 1) over a {@link org.mmumesh.guestmmu.GuestHtab};
 *   <li>per-vCPU state in {@link org.mmumesh.guestmmu.Cpu32State} / {@link
 *       org.mmumesh.guestmmu.Cpu64State}, held per VM by {@link org.mmumesh.guestmmu.VcpuTables};
 *   <li>one VM behind {@link org.mmumesh.guestmmu.GuestMmuPort}: {@link
 *       org.mmumesh.guestmmu.Guest32} and {@link org.mmumesh.guestmmu.Guest64} over {@link
 *       org.mmumesh.guestmmu.HashGuest};
 *   <li>{@link org.mmumesh.guestmmu.GuestKernel}, the guest's demand mapping and segment loads.
 * </ul>
 *
 * <p>The sequential engine calls these cores directly; on the mesh the per-VM actor {@code
 * GuestMmu} of {@code org.mmumesh.guestmmu.actor} (module guest-mmu-actor) owns them. Nothing here
 * names the host MMU (an architecture test checks it): a guest {@code tlbie} is answered with a
 * {@link org.mmumesh.common.HostFlush} that the host side carries out.
 */
package org.mmumesh.guestmmu;
