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

  /** Counters that continue from {@code c} (a vCPU restored from parking). */
  static VcpuStats of(VcpuCounters c) {
    VcpuStats s = new VcpuStats();
    s.accesses = c.accesses();
    s.loads = c.loads();
    s.stores = c.stores();
    s.ifetches = c.ifetches();
    s.tlbHits = c.tlbHits();
    s.htabHits = c.htabHits();
    s.nohpteExits = c.nohpteExits();
    s.protfaultExits = c.protfaultExits();
    s.noexecExits = c.noexecExits();
    s.reflectedDsi = c.reflectedDsi();
    s.reflectedIsi = c.reflectedIsi();
    s.reflectedNotFound = c.reflectedNotFound();
    s.reflectedProtection = c.reflectedProtection();
    s.reflectedSegment = c.reflectedSegment();
    s.reflectedRaw = c.reflectedRaw();
    s.mmioExits = c.mmioExits();
    s.mapFailures = c.mapFailures();
    s.hostMapsRo = c.hostMapsRo();
    s.hostMapsRw = c.hostMapsRw();
    s.mapsRefused = c.mapsRefused();
    s.unmaps = c.unmaps();
    s.markDirty = c.markDirty();
    s.spuriousC = c.spuriousC();
    s.missedC = c.missedC();
    s.failed = c.failed();
    s.timeouts = c.timeouts();
    s.retries = c.retries();
    s.shootdowns = c.shootdowns();
    s.storeFlushes = c.storeFlushes();
    s.storesLost = c.storesLost();
    return s;
  }

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
