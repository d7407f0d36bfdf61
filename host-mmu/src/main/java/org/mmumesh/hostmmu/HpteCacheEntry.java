package org.mmumesh.hostmmu;

import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

/**
 * A snapshot of one shadow-PTE cache entry, the kernel's {@code struct hpte_cache} minus its list
 * links (spec 5.6). The cache itself stores entries in int-indexed arrays; this record is built
 * only when a caller inspects an entry (tests, invariant checks, debugging).
 *
 * @param index the entry's index inside its {@link ShadowPteCache}
 * @param pte the full copy of the guest translation that was mapped
 * @param hostVpn the host virtual page number (4 KiB units) of the host HPTE
 * @param pfn the host page frame number mapped
 * @param slot the global host HTAB slot ({@code ptegIndex * 8 + i}) the HPTE was written to
 * @param hostPageSize the host page size of the HPTE
 */
public record HpteCacheEntry(
    int index, GuestPte pte, long hostVpn, long pfn, int slot, PageSize hostPageSize) {}
