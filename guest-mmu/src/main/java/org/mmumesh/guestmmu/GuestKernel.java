package org.mmumesh.guestmmu;

import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestKernelState;
import org.mmumesh.common.Checks;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.HostFlush;

/**
 * The guest kernel model: what the guest does with the exceptions KVM delivers to it, so workloads
 * run. It sees only what a real guest sees (the vector, DSISR and SRR1 bits) and is deliberately
 * simple and deterministic:
 *
 * <ul>
 *   <li>a DSI with NOHPTE, or an ISI with SRR1 "not found": demand-map the page, H_ENTER-style,
 *       mapping effective page {@code p} of the linear-map window to gfn {@code p} with the
 *       configured PP, in the HTAB the faulting vCPU's SDR1 names ({@link GuestMmuPort#htab(int)});
 *       if both PTEGs are full, evict the primary PTEG's entries round-robin (H_REMOVE + tlbie). If
 *       an HPTE for the page already exists, the "not found" was a protection fault in disguise
 *       (quirk Q2, spec 1.1): it is counted and handled as one.
 *   <li>a DSI with PROTFAULT: with {@link ProtectionPolicy#UPGRADE} the page becomes read/write
 *       (PP=2) and is tlbie'd (the guest's own copy-on-write); with {@link ProtectionPolicy#FAIL}
 *       the access fails.
 *   <li>a segment interrupt (0x380, 0x480): a 64-bit guest loads an SLB entry.
 *   <li>anything else (an ISI for no-execute, say): the access fails.
 * </ul>
 */
public final class GuestKernel {
  /** What happens to the access after the guest handled its exception. */
  public enum Outcome {
    RETRY,
    FAIL
  }

  /** What the guest kernel did, for statistics. */
  public enum Event {
    DEMAND_MAP,
    EVICTION,
    SLB_LOAD,
    PROT_UPGRADE,
    MISREPORTED_NOT_FOUND
  }

  /** Receives guest kernel events. */
  @FunctionalInterface
  public interface Events {
    void on(Event e);
  }

  /** Where a guest tlbie goes: the host flushes it on every vCPU of the VM. */
  @FunctionalInterface
  public interface HostFlushSink {
    void flush(HostFlush flush);
  }

  private final GuestMmuPort mmu;
  private final long windowBase;
  private final long windowPages;
  private final int pp;
  private final ProtectionPolicy protection;
  private final Events events;
  private final HostFlushSink flushSink;
  private final Long2LongOpenHashMap pteToEa = new Long2LongOpenHashMap();
  private int evictCursor;
  private String lastFailure;

  /**
   * @param mmu the VM's guest MMU
   * @param windowBase the first effective address of the linear map (gfn 0)
   * @param windowPages pages in the linear map
   * @param pp the PP bits of demand-mapped pages
   * @param protection what to do with protection faults
   * @param events receives what the kernel did
   * @param flushSink carries out the guest's tlbies
   */
  public GuestKernel(
      GuestMmuPort mmu,
      long windowBase,
      long windowPages,
      int pp,
      ProtectionPolicy protection,
      Events events,
      HostFlushSink flushSink) {
    this.mmu = mmu;
    this.windowBase = windowBase;
    this.windowPages = windowPages;
    this.pp = pp;
    this.protection = protection;
    this.events = events;
    this.flushSink = flushSink;
  }

  // ---- Checkpoint (style rule 26)
  // ----------------------------------------------------------------

  /**
   * The kernel model's state: the HPTEs it entered (by guest-real address, ascending, with the
   * effective page each maps), the eviction cursor and the last failure, plus its window, PP and
   * protection policy (configuration, checked on restore). Pure: changes nothing. The MMU, the
   * event and flush sinks are collaborators given at construction, not state.
   */
  public GuestKernelState checkpoint() {
    long[] keys = pteToEa.keySet().toLongArray();
    java.util.Arrays.sort(keys);
    GuestKernelState.Builder b =
        GuestKernelState.newBuilder()
            .setWindowBase(windowBase)
            .setWindowPages(windowPages)
            .setGuestPp(pp)
            .setProtectionUpgrade(protection == ProtectionPolicy.UPGRADE)
            .setEvictCursor(evictCursor)
            .setHasLastFailure(lastFailure != null)
            .setLastFailure(lastFailure == null ? "" : lastFailure);
    for (long k : keys) {
      b.addHpteGuestRealAddrs(k).addHpteEffectiveAddrs(pteToEa.get(k));
    }
    return b.build();
  }

  /**
   * Puts {@code state} into this freshly built kernel (same window, PP and policy).
   *
   * @throws CheckpointMismatchException naming the field and both values (or the allowed range);
   *     nothing changed then
   */
  public void restore(GuestKernelState state) {
    CheckpointMismatchException.requireEqual("window_base", state.getWindowBase(), windowBase);
    CheckpointMismatchException.requireEqual("window_pages", state.getWindowPages(), windowPages);
    CheckpointMismatchException.requireEqual("guest_pp", state.getGuestPp(), pp);
    CheckpointMismatchException.requireEqual(
        "protection_upgrade", state.getProtectionUpgrade(), protection == ProtectionPolicy.UPGRADE);
    int n = state.getHpteGuestRealAddrsCount();
    if (state.getHpteEffectiveAddrsCount() != n) {
      throw new CheckpointMismatchException(
          "hpte_effective_addrs: "
              + state.getHpteEffectiveAddrsCount()
              + " entries; allowed exactly as many as hpte_guest_real_addrs ("
              + n
              + ")");
    }
    for (int i = 1; i < n; i++) {
      if (Long.compareUnsigned(state.getHpteGuestRealAddrs(i - 1), state.getHpteGuestRealAddrs(i))
          >= 0) {
        throw new CheckpointMismatchException(
            "hpte_guest_real_addrs[" + i + "]: not ascending; allowed: strictly ascending");
      }
    }
    pteToEa.clear();
    for (int i = 0; i < n; i++) {
      pteToEa.put(state.getHpteGuestRealAddrs(i), state.getHpteEffectiveAddrs(i));
    }
    evictCursor = state.getEvictCursor();
    lastFailure = state.getHasLastFailure() ? state.getLastFailure() : null;
  }

  /** Why the last {@link Outcome#FAIL} failed. */
  public String lastFailure() {
    return lastFailure;
  }

  /**
   * The guest's exception handler for vector {@code vector} on {@code ea}.
   *
   * @param dsisr the DSISR the guest was given (data exceptions)
   * @param srr1Bits the SRR1 bits the guest was given (instruction exceptions)
   */
  public Outcome handle(int vcpu, int vector, long dsisr, long srr1Bits, long ea) {
    if (vector == FaultBits.VEC_DSEG || vector == FaultBits.VEC_ISEG) {
      if (mmu.loadSegment(vcpu, ea)) {
        events.on(Event.SLB_LOAD);
        return Outcome.RETRY;
      }
      return fail("segment interrupt for ea 0x" + Long.toHexString(ea) + " with no segment");
    }
    boolean notFound;
    if (vector == FaultBits.VEC_DSI) {
      if ((dsisr & FaultBits.DSISR_PROTFAULT) != 0) {
        return protectionFault(vcpu, ea);
      }
      notFound = (dsisr & FaultBits.DSISR_NOHPTE) != 0;
    } else {
      notFound = vector == FaultBits.VEC_ISI && (srr1Bits & FaultBits.SRR1_NOTFOUND) != 0;
    }
    if (!notFound) {
      return fail(
          String.format(
              "exception 0x%x (DSISR 0x%x, SRR1 bits 0x%x) at ea 0x%x",
              vector, dsisr, srr1Bits, ea));
    }
    if (mmu.findPte(vcpu, ea) >= 0) {
      events.on(Event.MISREPORTED_NOT_FOUND);
      return protectionFault(vcpu, ea);
    }
    return demandMap(vcpu, ea);
  }

  /**
   * H_ENTER on behalf of a client (the guest HTAB management API): an HPTE for {@code ea} -> {@code
   * gfn} with {@code pp}, in the first free slot of the primary, then the secondary PTEG. The entry
   * is the kernel's like a demand-mapped one, so a later eviction may reclaim it.
   *
   * @return the guest-real address of the HPTE, or -1 when both PTEGs are full (nothing changed)
   * @throws IllegalArgumentException naming {@code vcpu}, {@code ea}, {@code gfn} or {@code pp} and
   *     the allowed range (64-bit: also when no SLB entry translates {@code ea}); nothing changed
   */
  public long enter(int vcpu, long ea, long gfn, int pp) {
    mmu.checkVcpu(vcpu);
    mmu.checkEa(ea);
    Checks.unsignedAtMost("gfn", gfn, mmu.maxGfn());
    Checks.inRange("pp", pp, 0, 3);
    long addr = mmu.enter(vcpu, ea, gfn, pp);
    if (addr >= 0) {
      pteToEa.put(addr, ea & ~0xFFFL);
    }
    return addr;
  }

  /**
   * H_REMOVE on behalf of a client: invalidates the HPTE translating {@code ea} and tlbies the page
   * through the {@link HostFlushSink} (spec 5.6, "Users"), as an eviction does.
   *
   * @return true when an HPTE was removed; false when none translates {@code ea} (nothing changed)
   * @throws IllegalArgumentException naming {@code vcpu} or {@code ea} and the allowed range
   */
  public boolean remove(int vcpu, long ea) {
    mmu.checkVcpu(vcpu);
    mmu.checkEa(ea);
    long addr = mmu.findPte(vcpu, ea);
    if (addr < 0) {
      return false;
    }
    pteToEa.remove(addr);
    mmu.invalidate(addr);
    flushSink.flush(mmu.tlbieFor(vcpu, ea));
    return true;
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
    events.on(Event.DEMAND_MAP);
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
        events.on(Event.EVICTION);
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
    events.on(Event.PROT_UPGRADE);
    return Outcome.RETRY;
  }

  private Outcome fail(String why) {
    lastFailure = why;
    return Outcome.FAIL;
  }
}
