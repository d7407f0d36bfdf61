package org.mmumesh.vcpu;

/** The mutable counters behind {@link VcpuCounters}; owned by one {@link Vcpu}, not shared. */
final class VcpuStats {
  long accesses;
  long loads;
  long stores;
  long ifetches;
  long tlbHits;
  long htabHits;
  long nohpteExits;
  long protfaultExits;
  long noexecExits;
  long reflectedDsi;
  long reflectedIsi;
  long reflectedNotFound;
  long reflectedProtection;
  long reflectedSegment;
  long reflectedRaw;
  long mmioExits;
  long mapFailures;
  long hostMapsRo;
  long hostMapsRw;
  long mapsRefused;
  long unmaps;
  long markDirty;
  long spuriousC;
  long missedC;
  long failed;
  long timeouts;
  long retries;
  long shootdowns;
  long storeFlushes;
  long storesLost;

  VcpuCounters snapshot() {
    return new VcpuCounters(
        accesses,
        loads,
        stores,
        ifetches,
        tlbHits,
        htabHits,
        nohpteExits,
        protfaultExits,
        noexecExits,
        reflectedDsi,
        reflectedIsi,
        reflectedNotFound,
        reflectedProtection,
        reflectedSegment,
        reflectedRaw,
        mmioExits,
        mapFailures,
        hostMapsRo,
        hostMapsRw,
        mapsRefused,
        unmaps,
        markDirty,
        spuriousC,
        missedC,
        failed,
        timeouts,
        retries,
        shootdowns,
        storeFlushes,
        storesLost);
  }
}
