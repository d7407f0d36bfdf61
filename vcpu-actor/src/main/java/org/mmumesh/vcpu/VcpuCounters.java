package org.mmumesh.vcpu;

import java.util.LinkedHashMap;
import java.util.Map;
import org.mmumesh.common.CborSerializable;

/**
 * A snapshot of one {@link Vcpu}'s counters. The names follow the sequential engine's per-VM
 * statistics ({@code org.mmumesh.engine.Stat}) where the two count the same thing, so a
 * differential test can compare them; the last five are the mesh's own.
 *
 * @param accesses accesses executed (each completed or failed once)
 * @param loads loads executed
 * @param stores stores executed
 * @param ifetches instruction fetches executed
 * @param tlbHits accesses that hit the vCPU TLB (no message)
 * @param htabHits TLB misses that hit a permitting host HPTE ({@code HostMmu.Lookup})
 * @param nohpteExits DSI/ISI exits with no host HPTE
 * @param protfaultExits DSI exits on a read-only host HPTE
 * @param noexecExits ISI exits on a no-execute host HPTE
 * @param reflectedDsi reflected data faults (0x300, 0x380)
 * @param reflectedIsi reflected instruction faults (0x400, 0x480)
 * @param reflectedNotFound reflected as "not found"
 * @param reflectedProtection reflected as protection (-EPERM)
 * @param reflectedSegment reflected as segment interrupts
 * @param reflectedRaw reflected raw (not handled by handle_pagefault)
 * @param mmioExits MMIO exits (the access completes)
 * @param mapFailures map_page failures ignored (Q7)
 * @param hostMapsRo host HPTEs installed read-only
 * @param hostMapsRw host HPTEs installed read/write
 * @param mapsRefused maps refused by the notifier guard
 * @param unmaps unmap_page calls answered
 * @param markDirty mark_page_dirty calls ({@code Mapped.markDirty})
 * @param spuriousC guest C bits set by an xlate that was not for a store
 * @param missedC stores that completed with the guest C bit clear (Q4, {@link CBitWatch})
 * @param failed accesses reported failed (halted batches' unexecuted accesses included)
 * @param timeouts requests (and store flushes) whose reply did not come in time
 * @param retries requests (and store flushes) sent again with the same request id
 * @param shootdowns TLB shootdowns acknowledged
 * @param storeFlushes {@code PageFrame.ApplyStores} batches whose stores were applied
 * @param storesLost stores not applied: refused by the page frames, unanswered, or no sink
 */
public record VcpuCounters(
    long accesses,
    long loads,
    long stores,
    long ifetches,
    long tlbHits,
    long htabHits,
    long nohpteExits,
    long protfaultExits,
    long noexecExits,
    long reflectedDsi,
    long reflectedIsi,
    long reflectedNotFound,
    long reflectedProtection,
    long reflectedSegment,
    long reflectedRaw,
    long mmioExits,
    long mapFailures,
    long hostMapsRo,
    long hostMapsRw,
    long mapsRefused,
    long unmaps,
    long markDirty,
    long spuriousC,
    long missedC,
    long failed,
    long timeouts,
    long retries,
    long shootdowns,
    long storeFlushes,
    long storesLost)
    implements CborSerializable {

  /** Every counter 0: a vCPU that never ran. */
  public static VcpuCounters zero() {
    return new VcpuStats().snapshot();
  }

  /** Every counter by its sequential-engine-style name (upper case), in declaration order. */
  public Map<String, Long> toMap() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("ACCESSES", accesses);
    m.put("LOADS", loads);
    m.put("STORES", stores);
    m.put("IFETCHES", ifetches);
    m.put("TLB_HITS", tlbHits);
    m.put("HTAB_HITS", htabHits);
    m.put("NOHPTE_EXITS", nohpteExits);
    m.put("PROTFAULT_EXITS", protfaultExits);
    m.put("NOEXEC_EXITS", noexecExits);
    m.put("REFLECTED_DSI", reflectedDsi);
    m.put("REFLECTED_ISI", reflectedIsi);
    m.put("REFLECTED_NOT_FOUND", reflectedNotFound);
    m.put("REFLECTED_PROTECTION", reflectedProtection);
    m.put("REFLECTED_SEGMENT", reflectedSegment);
    m.put("REFLECTED_RAW", reflectedRaw);
    m.put("MMIO_EXITS", mmioExits);
    m.put("MAP_FAILURES", mapFailures);
    m.put("HOST_MAPS_RO", hostMapsRo);
    m.put("HOST_MAPS_RW", hostMapsRw);
    m.put("MAPS_REFUSED", mapsRefused);
    m.put("UNMAPS", unmaps);
    m.put("MARK_DIRTY", markDirty);
    m.put("SPURIOUS_C", spuriousC);
    m.put("MISSED_C", missedC);
    m.put("FAILED_ACCESSES", failed);
    m.put("TIMEOUTS", timeouts);
    m.put("RETRIES", retries);
    m.put("SHOOTDOWNS", shootdowns);
    m.put("STORE_FLUSHES", storeFlushes);
    m.put("STORES_LOST", storesLost);
    return m;
  }
}
