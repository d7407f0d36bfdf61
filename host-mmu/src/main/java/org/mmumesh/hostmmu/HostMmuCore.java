package org.mmumesh.hostmmu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.mmumesh.common.Checks;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.VsidTags;

/**
 * The host MMU of one VM, pure core (spec 5.2-5.7; architecture section 2, {@code host-mmu-actor}).
 * It owns one {@link HostHtab} and, per vCPU, a {@link ShadowPteCache} and a {@link SidMap}.
 *
 * <h2>Model</h2>
 *
 * <ul>
 *   <li>{@link #mapPage}: {@code kvmppc_mmu_map_page} after gfn-to-pfn. The caller (the page-fault
 *       handler) has done {@code gfn_to_pfn_prot} and passes the pfn and {@code writable}, and the
 *       guest VSID of {@code gpte.eaddr}'s segment (with VSID_PR in problem state).
 *   <li>Host segments are 256 MiB and host pages 4 KiB: {@code vpn = ((ea & 0x0FFFFFFF) >>> 12) |
 *       (hostVsid << 16)}. A guest segment tagged VSID_64K is still shadowed with 4 KiB host HPTEs
 *       (the kernel would use a 64 KiB host page, which needs 16 physically contiguous host frames
 *       that the simulated frame allocator does not promise); {@link #unmapPage} still uses the 64
 *       KiB vflush mask for such segments, as spec 5.5 says.
 *   <li>The hardware SLB is not modelled: a guest VSID without a SID map is a {@link Lookup#MISS}
 *       (the kernel would take a segment miss, map the segment, and then fault NOHPTE).
 *   <li>Evictions: on a 64-bit host, and on a 32-bit host with Q5 off, the evicted HPTE's cache
 *       record is dropped at once (cause {@link InvalidationCause#EVICTED}). The 64-bit kernel
 *       leaves that record in place, but its later invalidation is harmless there because {@code
 *       hpte_invalidate} compares the AVPN; dropping it keeps the cache count equal to the live
 *       HPTEs. With Q5 on the record stays stale, exactly as the kernel leaves it, so invalidating
 *       it later zeroes whatever then occupies the slot.
 *   <li>Owner tokens: each live HPTE records {@code (vcpu << 16) | entry}.
 * </ul>
 *
 * <h2>Invariants ({@link #checkInvariants()})</h2>
 *
 * <ol>
 *   <li>Each cache is internally consistent (lists, buckets, count).
 *   <li>Every cache entry's host HPTE is present, owned by it, and matches its VPN and pfn; with Q5
 *       on, entries that lost their HPTE (stale records and their victims) are counted instead.
 *   <li>Every valid HPTE is owned by a live cache entry that records its slot.
 *   <li>At most one reachable entry (present, and its host VSID still in the SID map) per (vCPU,
 *       vpage, host VSID). The host VSID is part of the key because the kernel's vpage drops
 *       VSID_PR (shifted out of 64 bits), so a problem-state and a supervisor segment with the same
 *       guest VSID legitimately share a vpage while being two different shadow segments. This holds
 *       as long as the caller maps only after a {@link Lookup#MISS} or after {@link #unmapPage}
 *       (the fault handler's protocol, spec 6.2): like the kernel, mapPage does not look for an
 *       existing HPTE first.
 * </ol>
 *
 * <p>Not thread-safe: one owner (the sequential engine or the HostMmu actor) drives it.
 */
public final class HostMmuCore {
  private final HostMmuConfig config;
  private final HostHtab htab;
  private final ShadowPteCache[] caches;
  private final SidMap[] sidMaps;
  private final SidMapToggle toggle;
  private final HostMmuStats stats = new HostMmuStats();

  // The incremental invariant check, attached by the first checkInvariantsIncremental().
  private HostMmuAudit audit;

  /** Test hook: {@link #mapPage} throws for this guest ea page ({@code ea >>> 12}); -1: never. */
  private long failMapEaPage = -1;

  /** A VM host MMU with its own SID-map toggle (one VM per simulated host). */
  public HostMmuCore(HostMmuConfig config) {
    this(config, new SidMapToggle());
  }

  /**
   * A VM host MMU.
   *
   * @param config the shape
   * @param toggle the host-wide SID-map toggle, shared by every VM on the same simulated host
   */
  public HostMmuCore(HostMmuConfig config, SidMapToggle toggle) {
    this.config = Objects.requireNonNull(config, "config");
    this.toggle = Objects.requireNonNull(toggle, "toggle");
    this.htab = new HostHtab(config.kind(), config.ptegCount(), config.q5());
    int n = config.vcpus();
    this.caches = new ShadowPteCache[n];
    this.sidMaps = new SidMap[n];
    HpteRemover remover = htab::invalidate;
    for (int v = 0; v < n; v++) {
      caches[v] = new ShadowPteCache(config.kind(), remover);
      VsidAllocator alloc =
          config.kind().is64()
              ? VsidAllocator.host64(config.firstContextId() + v, config.esidBits())
              : VsidAllocator.host32(
                  config.firstContextId() + v * config.poolContexts(), config.poolContexts());
      sidMaps[v] = new SidMap(toggle, alloc);
    }
  }

  // ---- checkpoint ---------------------------------------------------------------------------

  /**
   * The complete state of this VM's host MMU for a checkpoint (issue 13; see {@link
   * HostMmuCheckpoint} for what is written). Pure: reads only.
   */
  public org.mmumesh.checkpoint.v1.HostMmuState checkpoint() {
    return HostMmuCheckpoint.write(this);
  }

  /**
   * A core holding {@code state}, with its own SID-map toggle set from the state (a VM alone on its
   * host, as the HostMmu actor's).
   *
   * @param config must equal the configuration the state was taken with
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the field that differs (both
   *     values) or is inconsistent (its allowed range); nothing is returned then
   */
  public static HostMmuCore restore(
      org.mmumesh.checkpoint.v1.HostMmuState state, HostMmuConfig config) {
    return HostMmuCheckpoint.read(state, config, new SidMapToggle(), true);
  }

  /**
   * A core holding {@code state} that shares the host-wide {@code toggle} (several VMs of one
   * simulated host): the toggle is left as given, its owner restores it once ({@link
   * SidMapToggle#restore}, from its own checkpoint or any of the VMs' {@code sid_map_toggle}).
   *
   * @see #restore(org.mmumesh.checkpoint.v1.HostMmuState, HostMmuConfig)
   */
  public static HostMmuCore restore(
      org.mmumesh.checkpoint.v1.HostMmuState state, HostMmuConfig config, SidMapToggle toggle) {
    return HostMmuCheckpoint.read(state, config, Objects.requireNonNull(toggle, "toggle"), false);
  }

  /** The core's own counters (not its parts'). */
  HostMmuStats ownStats() {
    return stats;
  }

  /** The host VPN of {@code ea} in the host segment {@code hostVsid} (256 MiB, 4 KiB pages). */
  public static long hostVpn(long ea, long hostVsid) {
    return ((ea & 0x0FFFFFFFL) >>> 12) | (hostVsid << 16);
  }

  /**
   * The owner tag a host HTAB slot carries for entry {@code entry} of vCPU {@code vcpu}'s cache.
   */
  public static int ownerToken(int vcpu, int entry) {
    return (vcpu << 16) | entry;
  }

  private void checkVcpu(int vcpu) {
    if (vcpu < 0 || vcpu >= caches.length) {
      Checks.inRange("vcpu", vcpu, 0, caches.length - 1L);
    }
  }

  // ---- map / unmap ----------------------------------------------------------------------------

  /**
   * {@code kvmppc_mmu_map_page} after gfn-to-pfn (spec 5.3 64-bit host, 5.4 32-bit host).
   *
   * @param vcpu the vCPU, 0 to vcpus-1
   * @param gpte the guest translation
   * @param gvsid the guest VSID of {@code gpte.eaddr}'s segment, with VSID_PR when MSR.PR=1
   * @param pfn the host frame from gfn-to-pfn
   * @param writable gfn-to-pfn's {@code writable}
   * @return what was installed and flushed
   */
  public MapResult mapPage(int vcpu, GuestPte gpte, long gvsid, long pfn, boolean writable) {
    checkVcpu(vcpu);
    Objects.requireNonNull(gpte, "gpte");
    if (failMapEaPage >= 0 && (gpte.eaddr() >>> 12) == failMapEaPage) {
      throw new IllegalStateException(
          "injected core failure: mapPage of ea page 0x" + Long.toHexString(failMapEaPage));
    }
    boolean is64 = config.kind().is64();
    Checks.inRange("pfn", pfn, 0, is64 ? HostHtab.MAX_PFN_64 : HostHtab.MAX_PFN_32);
    if (!is64) {
      Checks.unsignedAtMost("gpte.eaddr", gpte.eaddr(), 0xFFFFFFFFL);
    }
    ShadowPteCache cache = caches[vcpu];
    SidMap sid = sidMaps[vcpu];

    // find_sid_vsid, else map_segment (which may exhaust the VSID range and flush everything).
    long hostVsid = sid.findSidVsid(gvsid);
    boolean vsidFlush = false;
    if (hostVsid == SidMap.NOT_FOUND) {
      SidMapping m = sid.createSidMap(gvsid);
      hostVsid = m.hostVsid();
      if (m.flushAll()) {
        vsidFlush = true;
        stats.inc(HostMmuStats.Counter.FLUSH_ALL_CALLS);
        cache.flushAll(InvalidationCause.VSID_EXHAUSTED);
      }
    }
    long vpn = hostVpn(gpte.eaddr(), hostVsid);

    boolean readOnly = !(gpte.mayWrite() && writable);
    boolean noExec = is64 && !gpte.mayExecute();
    boolean markDirty = !readOnly;

    int slot = htab.insert(vpn, pfn, readOnly, noExec);
    int evicted = 0;
    boolean stale = false;
    if (htab.lastEvictedSlot() >= 0) {
      evicted = 1;
      int victim = htab.lastEvictedOwner();
      if (victim >= 0) {
        if (htab.q5()) {
          stale = true;
          stats.inc(HostMmuStats.Counter.Q5_STALE_RECORDS);
        } else {
          caches[victim >>> 16].dropEvicted(victim & 0xFFFF);
        }
      }
    }

    boolean cacheFull = cache.isFull();
    int entry = cache.hpteCacheNext();
    cache.hpteCacheMap(entry, gpte, vpn, pfn, slot, PageSize.SIZE_4K);
    htab.setOwner(slot, ownerToken(vcpu, entry));

    stats.inc(readOnly ? HostMmuStats.Counter.INSTALLS_RO : HostMmuStats.Counter.INSTALLS_RW);
    if (noExec) {
      stats.inc(HostMmuStats.Counter.INSTALLS_NOEXEC);
    }
    if (markDirty) {
      stats.inc(HostMmuStats.Counter.MARK_DIRTY);
    }
    return new MapResult(
        hostVsid, vpn, slot, entry, readOnly, noExec, markDirty, evicted, stale, cacheFull,
        vsidFlush);
  }

  /**
   * {@code kvmppc_mmu_unmap_page} (spec 5.5): {@code pte_vflush(vpage, 0xFFFFFFFFF)}, or mask
   * {@code 0xFFFFFFFF0} on a 64-bit host when the segment's guest VSID has VSID_64K.
   *
   * @param vsid64k the segment's guest VSID carries {@link VsidTags#VSID_64K} (ignored on a 32-bit
   *     host)
   * @return the number of cache entries invalidated
   */
  public int unmapPage(int vcpu, GuestPte gpte, boolean vsid64k) {
    checkVcpu(vcpu);
    Objects.requireNonNull(gpte, "gpte");
    long mask =
        config.kind().is64() && vsid64k ? ShadowPteCache.VP_MASK_64K : ShadowPteCache.VP_MASK_4K;
    return caches[vcpu].pteVflush(gpte.vpage(), mask);
  }

  // ---- fast path ------------------------------------------------------------------------------

  /**
   * The hardware path for one access: SID map, host VPN, HTAB search. Allocation-free.
   *
   * @return the global HTAB slot that matched, or -1 (no SID map, or no HPTE: NOHPTE)
   */
  public int lookupSlot(int vcpu, long gvsid, long ea) {
    checkVcpu(vcpu);
    long hostVsid = sidMaps[vcpu].findSidVsid(gvsid);
    if (hostVsid == SidMap.NOT_FOUND) {
      return -1;
    }
    return htab.lookupSlot(hostVpn(ea, hostVsid));
  }

  /** {@link #lookupSlot} as a protection code. Allocation-free. */
  public Lookup lookup(int vcpu, long gvsid, long ea) {
    int s = lookupSlot(vcpu, gvsid, ea);
    return s < 0 ? Lookup.MISS : htab.protectionOf(s);
  }

  /** The protection of a slot returned by {@link #lookupSlot}. */
  public Lookup protectionOf(int slot) {
    return htab.protectionOf(slot);
  }

  /** The host frame of a slot returned by {@link #lookupSlot} (to fill a TLB). */
  public long pfnOf(int slot) {
    return htab.pfnAt(slot);
  }

  // ---- flushes --------------------------------------------------------------------------------

  /** {@code kvmppc_mmu_pte_flush(vcpu, ea, mask)} (spec 5.6). Returns entries invalidated. */
  public int pteFlush(int vcpu, long ea, long mask) {
    checkVcpu(vcpu);
    return caches[vcpu].pteFlush(ea, mask);
  }

  /** {@code kvmppc_mmu_pte_vflush(vcpu, vp, mask)} (spec 5.6). Returns entries invalidated. */
  public int pteVflush(int vcpu, long vp, long mask) {
    checkVcpu(vcpu);
    return caches[vcpu].pteVflush(vp, mask);
  }

  /**
   * {@code kvmppc_mmu_pte_pflush(vcpu, paStart, paEnd)}: guest-real range {@code [paStart, paEnd)},
   * compared unsigned. Returns entries invalidated.
   */
  public int ptePflush(int vcpu, long paStart, long paEnd) {
    checkVcpu(vcpu);
    checkRange(paStart, paEnd);
    return caches[vcpu].ptePflush(paStart, paEnd);
  }

  private static void checkRange(long paStart, long paEnd) {
    if (Long.compareUnsigned(paEnd, paStart) < 0) {
      throw new IllegalArgumentException(
          "paEnd: 0x"
              + Long.toHexString(paEnd)
              + " is out of range; allowed 0x"
              + Long.toHexString(paStart)
              + " (paStart) to 0xffffffffffffffff");
    }
  }

  /** {@code pte_flush(vcpu, 0, 0)}: everything of one vCPU (KVM_REQ_TLB_FLUSH, set_sregs). */
  public int flushAll(int vcpu) {
    return pteFlush(vcpu, 0, ShadowPteCache.MASK_FLUSH_ALL);
  }

  /** {@code pte_flush(0, 0)} on every vCPU. Returns entries invalidated. */
  public int flushAllVcpus() {
    int n = 0;
    for (int v = 0; v < caches.length; v++) {
      n += caches[v].pteFlush(0, ShadowPteCache.MASK_FLUSH_ALL);
    }
    return n;
  }

  /**
   * An MMU-notifier event in {@code full} mode, as PR KVM at the change handles every event (Q8,
   * spec 5.7): a full flush of every vCPU. Returns entries invalidated.
   */
  public int notifierFullFlush() {
    stats.inc(HostMmuStats.Counter.NOTIFIER_FULL_FLUSHES);
    return flushAllVcpus();
  }

  /**
   * An MMU-notifier event in {@code full} mode (Q8) as the kernel really handles it (spec 5.7):
   * {@code kvm_flush_remote_tlbs} only sets KVM_REQ_TLB_FLUSH on every vCPU; nothing is flushed
   * here. Each vCPU then calls {@link #flushAll(int)} when it next enters the guest. Counts the
   * event ({@code NOTIFIER_FULL_FLUSHES}) so that both engines report the same counters.
   */
  public void notifierFullFlushRequested() {
    stats.inc(HostMmuStats.Counter.NOTIFIER_FULL_FLUSHES);
  }

  /**
   * An MMU-notifier event in {@code range} mode (later kernels, spec 10): {@code pte_pflush} of the
   * guest-real range {@code [paStart, paEnd)} on every vCPU. Returns entries invalidated.
   */
  public int notifierRangeFlush(long paStart, long paEnd) {
    checkRange(paStart, paEnd);
    stats.inc(HostMmuStats.Counter.NOTIFIER_RANGE_FLUSHES);
    int n = 0;
    for (ShadowPteCache c : caches) {
      n += c.ptePflush(paStart, paEnd);
    }
    return n;
  }

  /** Guest tlbie on a 32-bit guest: {@code pte_flush(ea, mask)} on every vCPU (spec 5.6). */
  public int pteFlushAllVcpus(long ea, long mask) {
    int n = 0;
    for (ShadowPteCache c : caches) {
      n += c.pteFlush(ea, mask);
    }
    return n;
  }

  /** Guest tlbie on a 64-bit guest: {@code pte_vflush(vp, mask)} on every vCPU (spec 5.6). */
  public int pteVflushAllVcpus(long vp, long mask) {
    int n = 0;
    for (ShadowPteCache c : caches) {
      n += c.pteVflush(vp, mask);
    }
    return n;
  }

  // ---- inspection -----------------------------------------------------------------------------

  /** A snapshot summing every component's counters. */
  public HostMmuStats stats() {
    HostMmuStats s = new HostMmuStats();
    s.addAll(stats);
    s.addAll(htab.stats());
    for (int v = 0; v < caches.length; v++) {
      s.addAll(caches[v].stats());
      s.addAll(sidMaps[v].stats());
    }
    return s;
  }

  /** The configuration. */
  public HostMmuConfig config() {
    return config;
  }

  /** The host HTAB. */
  public HostHtab htab() {
    return htab;
  }

  /** The shadow cache of a vCPU. */
  public ShadowPteCache cache(int vcpu) {
    checkVcpu(vcpu);
    return caches[vcpu];
  }

  /** The SID map of a vCPU. */
  public SidMap sidMap(int vcpu) {
    checkVcpu(vcpu);
    return sidMaps[vcpu];
  }

  /** The SID-map toggle in use. */
  public SidMapToggle toggle() {
    return toggle;
  }

  /**
   * A snapshot of every vCPU's live shadow-PTE cache entries with their host HPTEs, in {@link
   * ShadowDump.ShadowEntry#ORDER}, and the counters: the one dump both engines compare.
   */
  public ShadowDump shadowDump() {
    List<List<ShadowDump.ShadowEntry>> all = new ArrayList<>(caches.length);
    for (int c = 0; c < caches.length; c++) {
      List<ShadowDump.ShadowEntry> out = new ArrayList<>(caches[c].count());
      for (HpteCacheEntry e : caches[c].entries()) {
        int slot = e.slot();
        boolean present =
            htab.isValid(slot)
                && htab.ownerAt(slot) == ownerToken(c, e.index())
                && htab.vpnAt(slot) == e.hostVpn();
        Lookup prot = present ? htab.protectionOf(slot) : Lookup.MISS;
        GuestPte p = e.pte();
        out.add(
            new ShadowDump.ShadowEntry(
                e.index(),
                p.eaddr(),
                p.vpage(),
                p.raddr(),
                p.gfn(),
                p.mayRead(),
                p.mayWrite(),
                p.mayExecute(),
                p.pageSize() == null ? null : p.pageSize().name(),
                e.hostVpn(),
                e.pfn(),
                slot,
                present,
                present && prot.isWritable(),
                present && prot.isExecutable(),
                e.hostPageSize() == null ? null : e.hostPageSize().name()));
      }
      out.sort(ShadowDump.ShadowEntry.ORDER);
      all.add(out);
    }
    return new ShadowDump(all, stats().toMap());
  }

  /**
   * Test hook (fault injection, issue 4 "supervision"): from now on {@link #mapPage} throws an
   * {@link IllegalStateException} when {@code gpte.eaddr() >>> 12 == eaPage}; -1 turns it off.
   */
  public void failMapPageAt(long eaPage) {
    this.failMapEaPage = eaPage;
  }

  /** Live cache entries summed over vCPUs. */
  public int cacheCount() {
    int n = 0;
    for (ShadowPteCache c : caches) {
      n += c.count();
    }
    return n;
  }

  /**
   * {@link #checkInvariants()} for what changed since the previous call ({@code
   * --check-invariants}; {@link HostMmuAudit} says exactly what each call covers). The first call
   * attaches the audit and checks everything. Changes made behind the core's classes are left to
   * the full check, which a run makes at its end. {@code unreachableEntries} is -1 (not counted).
   *
   * @param touched given (vCPU, entry) for every live entry re-checked, or null
   */
  public InvariantReport checkInvariantsIncremental(EntryVisitor touched) {
    if (audit == null) {
      audit = new HostMmuAudit(htab, caches, sidMaps);
    }
    return audit.check(touched);
  }

  /** Receives a (vCPU, entry number) pair. */
  @FunctionalInterface
  public interface EntryVisitor {
    void visit(int vcpu, int entry);
  }

  /**
   * Checks the invariants listed in the class comment. Cost: one pass over the HTAB and over every
   * cache; meant for tests and an optional run-time checker.
   */
  public InvariantReport checkInvariants() {
    List<String> v = new ArrayList<>();
    int live = 0;
    int stale = 0;
    int unreachable = 0;
    for (int c = 0; c < caches.length; c++) {
      ShadowPteCache cache = caches[c];
      for (String s : cache.checkConsistency()) {
        v.add("vcpu " + c + ": " + s);
      }
      Set<Long> mappedVsids = new HashSet<>();
      SidMap sid = sidMaps[c];
      for (int i = 0; i < SidMap.SID_MAP_NUM; i++) {
        if (sid.isValid(i)) {
          mappedVsids.add(sid.hostVsidAt(i));
        }
      }
      Map<List<Long>, Integer> reachableByVpage = new HashMap<>();
      for (HpteCacheEntry e : cache.entries()) {
        int slot = e.slot();
        boolean present =
            htab.isValid(slot)
                && htab.ownerAt(slot) == ownerToken(c, e.index())
                && htab.vpnAt(slot) == e.hostVpn()
                && htab.pfnAt(slot) == e.pfn();
        if (!present) {
          if (htab.q5()) {
            stale++;
          } else {
            v.add("vcpu " + c + ": entry " + e.index() + " has no matching host HPTE at " + slot);
          }
          continue;
        }
        live++;
        int found = htab.lookupSlot(e.hostVpn());
        if (found != slot) {
          v.add(
              "vcpu "
                  + c
                  + ": entry "
                  + e.index()
                  + " at slot "
                  + slot
                  + " is shadowed by slot "
                  + found);
        }
        if (!mappedVsids.contains(e.hostVpn() >>> 16)) {
          unreachable++;
          continue;
        }
        Integer prior =
            reachableByVpage.putIfAbsent(List.of(e.pte().vpage(), e.hostVpn() >>> 16), e.index());
        if (prior != null) {
          v.add(
              "vcpu "
                  + c
                  + ": entries "
                  + prior
                  + " and "
                  + e.index()
                  + " both map vpage 0x"
                  + Long.toHexString(e.pte().vpage()));
        }
      }
    }
    int valid = 0;
    for (int s = 0; s < htab.slotCount(); s++) {
      if (!htab.isValid(s)) {
        continue;
      }
      valid++;
      int owner = htab.ownerAt(s);
      if (owner < 0) {
        v.add("htab slot " + s + " is valid but has no owner");
        continue;
      }
      int c = owner >>> 16;
      int e = owner & 0xFFFF;
      if (c >= caches.length || !caches[c].isLive(e) || caches[c].slotOf(e) != s) {
        v.add("htab slot " + s + " is owned by vcpu " + c + " entry " + e + ", which is not there");
      }
    }
    if (valid != htab.validCount()) {
      v.add("htab validCount " + htab.validCount() + " != valid slots " + valid);
    }
    if (valid != live) {
      v.add("valid host HPTEs " + valid + " != live cache entries " + live);
    }
    return new InvariantReport(v, live, stale, unreachable, valid);
  }
}
