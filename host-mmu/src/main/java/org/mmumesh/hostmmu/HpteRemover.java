package org.mmumesh.hostmmu;

/**
 * The owner of the host HPTEs a {@link ShadowPteCache} records: step (1) of {@code invalidate_pte}
 * (spec 5.6), i.e. the kernel's {@code kvmppc_mmu_invalidate_pte}. {@link HostHtab#invalidate(int,
 * long)} implements it.
 */
@FunctionalInterface
public interface HpteRemover {
  /**
   * Removes the host HPTE a cache entry recorded.
   *
   * @param slot the global host HTAB slot index ({@code ptegIndex * 8 + i})
   * @param hostVpn the host VPN the entry was installed for
   */
  void removeHpte(int slot, long hostVpn);
}
