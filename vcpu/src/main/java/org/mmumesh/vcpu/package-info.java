/**
 * One vCPU as pure cores (no Pekko): its access path, the exit routing of spec 6.1 and {@code
 * kvmppc_handle_pagefault} of spec 6.2, and its TLB (design: docs/design.md, "A guest store to a
 * KSM-merged page").
 *
 * <ul>
 *   <li>{@link org.mmumesh.vcpu.VcpuCore}: one vCPU's access path, sans I/O (exit classification,
 *       permission checks, the C-bit watch, the livelock bound, the failure record, the counters);
 *       both engines drive it, so they take the same decisions by construction.
 *   <li>{@link org.mmumesh.vcpu.PageFaultHandler}, the fault handler as a state machine that says
 *       what it needs next ({@link org.mmumesh.vcpu.FaultStep}) for a {@link
 *       org.mmumesh.vcpu.HostFault}.
 *   <li>{@link org.mmumesh.vcpu.Tlb}; {@link org.mmumesh.vcpu.CBitWatch} (quirk Q4's missed C bits,
 *       spec 1.3); {@link org.mmumesh.vcpu.LivelockBound} (spec 10); {@link
 *       org.mmumesh.vcpu.StoreBuffer}; {@link org.mmumesh.vcpu.AccessRecorder} and {@link
 *       org.mmumesh.common.AccessTrace} for traced accesses; {@link org.mmumesh.vcpu.VcpuSetup}.
 * </ul>
 *
 * <p>The sequential engine drives these cores directly; on the mesh the per-vCPU actor {@code Vcpu}
 * of {@code org.mmumesh.vcpu.actor} (module vcpu-actor) drives them by messages.
 */
package org.mmumesh.vcpu;
