package org.mmumesh.engine;

import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import org.mmumesh.guestmmu.HostFlush;
import org.mmumesh.vcpu.FaultBits;
import org.mmumesh.vcpu.FaultStep;

/**
 * The guest kernel model: what the guest does with the exceptions KVM reflects to it, so workloads
 * run. It is deliberately simple and deterministic:
 *
 * <ul>
 *   <li>"not found" (DSI with NOHPTE, ISI not-found): demand-map the page, H_ENTER-style, mapping
 *       effective page {@code p} of the linear-map window to gfn {@code p} with the configured PP;
 *       if both PTEGs are full, evict the primary PTEG's entries round-robin (H_REMOVE + tlbie). If
 *       an HPTE for the page already exists, the "not found" was a protection fault in disguise
 *       (quirk Q2): it is counted and handled as one.
 *   <li>protection (DSI with PROTFAULT): counted; with {@link ProtectionPolicy#UPGRADE} the page
 *       becomes read/write (PP=2) and is tlbie'd; with {@link ProtectionPolicy#FAIL} the access
 *       fails.
 *   <li>segment interrupts: a 64-bit guest loads an SLB entry.
 *   <li>no-execute ISIs: the access fails.
 * </ul>
 */
final class GuestKernel {
  /** What happens to the access after the guest handled its exception. */
  enum Outcome {
    RETRY,
    FAIL
  }

  private final GuestMmuPort mmu;
  private final long windowBase;
  private final long windowPages;
  private final int pp;
  private final ProtectionPolicy protection;
  private final VmStats stats;
  private final HostFlushSink flushSink;
  private final Long2LongOpenHashMap pteToEa = new Long2LongOpenHashMap();
  private int evictCursor;
  private String lastFailure;

  /** Where a guest tlbie goes: the host flushes it on every vCPU of the VM. */
  interface HostFlushSink {
    void flush(HostFlush flush);
  }

  GuestKernel(
      GuestMmuPort mmu,
      long windowBase,
      long windowPages,
      int pp,
      ProtectionPolicy protection,
      VmStats stats,
      HostFlushSink flushSink) {
    this.mmu = mmu;
    this.windowBase = windowBase;
    this.windowPages = windowPages;
    this.pp = pp;
    this.protection = protection;
    this.stats = stats;
    this.flushSink = flushSink;
  }

  /** Why the last {@link Outcome#FAIL} failed. */
  String lastFailure() {
    return lastFailure;
  }

  /** The guest's exception handler for a reflected fault on {@code ea}. */
  Outcome handle(int vcpu, FaultStep.Reflect r, long ea) {
    switch (r.kind()) {
      case SEGMENT:
        stats.inc(Stat.REFLECTED_SEGMENT);
        if (mmu.loadSegment(vcpu, ea)) {
          stats.inc(Stat.GUEST_SLB_LOADS);
          return Outcome.RETRY;
        }
        return fail("segment interrupt for ea 0x" + Long.toHexString(ea) + " with no segment");
      case PROTECTION:
        stats.inc(Stat.REFLECTED_PROTECTION);
        return protectionFault(vcpu, ea);
      case RAW:
        stats.inc(Stat.REFLECTED_RAW);
        if (r.vector() == FaultBits.VEC_DSI && (r.dsisr() & FaultBits.DSISR_PROTFAULT) != 0) {
          return protectionFault(vcpu, ea);
        }
        return fail(
            String.format(
                "exception 0x%x (DSISR 0x%x, SRR1 bits 0x%x) at ea 0x%x",
                r.vector(), r.dsisr(), r.msrBits(), ea));
      case NOT_FOUND:
      default:
        stats.inc(Stat.REFLECTED_NOT_FOUND);
        if (mmu.findPte(vcpu, ea) >= 0) {
          stats.inc(Stat.GUEST_MISREPORTED);
          return protectionFault(vcpu, ea);
        }
        return demandMap(vcpu, ea);
    }
  }

  private Outcome demandMap(int vcpu, long ea) {
    long page = (ea - windowBase) >>> 12;
    if (ea < windowBase || page >= windowPages) {
      return fail("no guest mapping for ea 0x" + Long.toHexString(ea) + " (outside the window)");
    }
    long addr = mmu.enter(vcpu, ea, page, pp);
    if (addr < 0) {
      evictOne(vcpu, ea);
      addr = mmu.enter(vcpu, ea, page, pp);
      if (addr < 0) {
        return fail("guest HTAB: no room for ea 0x" + Long.toHexString(ea));
      }
    }
    pteToEa.put(addr, ea & ~0xFFFL);
    stats.inc(Stat.GUEST_DEMAND_MAPS);
    return Outcome.RETRY;
  }

  private void evictOne(int vcpu, long ea) {
    long pteg = mmu.primaryPteg(vcpu, ea);
    for (int tries = 0; tries < 8; tries++) {
      long victim = pteg + (long) mmu.hpteBytes() * (evictCursor++ & 7);
      if (pteToEa.containsKey(victim)) {
        long victimEa = pteToEa.remove(victim);
        mmu.invalidate(victim);
        flushSink.flush(mmu.tlbieFor(vcpu, victimEa));
        stats.inc(Stat.GUEST_EVICTIONS);
        return;
      }
    }
  }

  private Outcome protectionFault(int vcpu, long ea) {
    if (protection == ProtectionPolicy.FAIL) {
      return fail("protection fault at ea 0x" + Long.toHexString(ea));
    }
    long addr = mmu.findPte(vcpu, ea);
    if (addr < 0) {
      return demandMap(vcpu, ea);
    }
    mmu.setPp(addr, 2);
    flushSink.flush(mmu.tlbieFor(vcpu, ea));
    stats.inc(Stat.GUEST_PROT_UPGRADES);
    return Outcome.RETRY;
  }

  private Outcome fail(String why) {
    lastFailure = why;
    return Outcome.FAIL;
  }
}
