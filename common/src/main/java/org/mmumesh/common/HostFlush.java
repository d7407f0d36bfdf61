package org.mmumesh.common;

/**
 * What the host must do on every vCPU after a guest {@code tlbie} (spec 5.6, "Users"): the guest
 * MMU computes it, the host MMU's shadow-PTE cache carries it out.
 */
public sealed interface HostFlush extends CborSerializable {

  /** {@code kvmppc_mmu_pte_flush(vcpu, ea, mask)}: 32-bit tlbie uses mask 0x0FFFF000. */
  record PteFlush(long ea, long mask) implements HostFlush {}

  /** {@code kvmppc_mmu_pte_vflush(vcpu, vpage, mask)}: 64-bit tlbie, mask by page size. */
  record PteVflush(long vpage, long mask) implements HostFlush {}
}
