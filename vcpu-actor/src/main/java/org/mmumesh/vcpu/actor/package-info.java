/**
 * The vCPU's actor shell (architecture section 4): {@link org.mmumesh.vcpu.actor.Vcpu}, the
 * per-vCPU Cluster Sharding entity {@code vm-<v>/vcpu-<n>} that drives the per-vCPU core {@link
 * org.mmumesh.vcpu.VcpuCore} by messages to the VM's guest MMU, host MMU and the host's page
 * frames: workload batches and their idempotent retries, fault steps with deadlines, store-buffer
 * ordering against TLB shootdowns, traced accesses and state changes. {@code Vcpu} is the lifecycle
 * and the message dispatch; {@link org.mmumesh.vcpu.actor.AccessDriver} the access loop and
 * fault-step driver; {@link org.mmumesh.vcpu.actor.PeerReplies} the typed reply adapters; the other
 * plain parts are built by {@link org.mmumesh.vcpu.actor.VcpuParts}. {@link
 * org.mmumesh.vcpu.actor.VcpuProtocol} holds its messages and replies; {@link
 * org.mmumesh.vcpu.actor.VcpuParking} is what a passivated vCPU keeps. Design: docs/design.md, "A
 * guest store to a KSM-merged page" and "The vCPU shell".
 */
package org.mmumesh.vcpu.actor;
