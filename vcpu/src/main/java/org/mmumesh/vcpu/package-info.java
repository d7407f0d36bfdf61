/**
 * One vCPU: the exit routing of spec 6.1 and {@code kvmppc_handle_pagefault} of spec 6.2, its TLB,
 * and the actor that runs workload batches by messages to the VM's guest MMU, host MMU and the
 * host's page frames (architecture section 4; design: docs/design.md, "Store to a KSM page").
 *
 * <ul>
 *   <li>Cores (no Pekko): {@link org.mmumesh.vcpu.PageFaultHandler}, the fault handler as a
 *       sans-I/O state machine that says what it needs next ({@link org.mmumesh.vcpu.FaultStep});
 *       {@link org.mmumesh.vcpu.Tlb}; {@link org.mmumesh.vcpu.CBitWatch} (quirk Q4's missed C bits,
 *       spec 1.3); {@link org.mmumesh.vcpu.LivelockBound} (spec 10); {@link
 *       org.mmumesh.vcpu.StoreBuffer}; {@link org.mmumesh.vcpu.AccessRecorder} for traced accesses.
 *   <li>Shell: {@link org.mmumesh.vcpu.actor.Vcpu}, the per-vCPU actor, and {@link
 *       org.mmumesh.vcpu.actor.VcpuParking}, what a passivated vCPU keeps. Planned: a pure per-vCPU
 *       access-loop core both engines drive, and the shell in {@code org.mmumesh.vcpu.actor} (issue
 *       11).
 * </ul>
 */
package org.mmumesh.vcpu;
