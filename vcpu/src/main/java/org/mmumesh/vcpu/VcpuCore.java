package org.mmumesh.vcpu;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.VcpuCoreState;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.CpuState;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.pageframe.PfnResult;

/**
 * One vCPU's access path as a pure core, sans I/O (like {@link PageFaultHandler}, which it drives):
 * both engines run every access through it, the sequential engine ({@code SequentialEngine})
 * answering each need by calling the other cores directly, the {@link Vcpu} actor by asking the
 * peer actors. Every decision and every count of the access path lives here once, so the two
 * engines give the same answers by construction.
 *
 * <p><b>An access</b> (spec 5.1, 8.4):
 *
 * <ol>
 *   <li>{@link #begin}: counted; it answers what the access needs next as a {@link Need}: a TLB hit
 *       that {@linkplain #permits permits} it is a {@link Need.Hit} (the driver stores or loads
 *       through the frame; {@link Need.Hit#readC} says whether a store must read the guest C bit,
 *       see below); a miss needs the segment's guest VSID ({@link Need.SegmentVsid}, {@code
 *       esid_to_vsid}), answered by {@link #onVsid}, which needs the host HTAB search ({@link
 *       Need.HostLookup}) or, without a VSID, is a NOHPTE exit ({@link Need.Fault}); {@link
 *       #onLookup} fills the TLB when the host HPTE permits the access (an HTAB hit, {@link
 *       Need.Hit}), else classifies the exit; a retried access starts again at {@link #miss};
 *   <li>an exit is first {@linkplain #admit admitted} under the {@link LivelockBound}, then {@link
 *       #onFault} counts it (NOHPTE / PROTFAULT / NOEXEC, from SRR1 or DSISR as the hardware sets
 *       them) and answers the fault handler's first step; the driver answers each non-terminal
 *       {@link FaultStep} ({@link FaultStep.Xlate} by {@link #onXlated}, {@link FaultStep.GfnToPfn}
 *       by {@link #onPfn}, {@link FaultStep.UnmapPage} by {@link #onUnmapped}, {@link
 *       FaultStep.MapPage} by {@link #onMapped}) until a terminal one, which the core has counted
 *       (reflected by vector and kind, MMIO exit, ignored map failure);
 *   <li>a failed access is {@linkplain #fail recorded} (counted, its text built here).
 * </ol>
 *
 * <p><b>C-bit watch</b> (quirk Q4, {@link CBitWatch}): a TLB entry of a watched page carries {@link
 * CBitWatch#PROT_WATCH_C}; a store through it needs the guest HPTE's C bit, fed to {@link
 * #onCRead}, which counts {@code MISSED_C} or ends the watch and drops the bit from the entry. The
 * watch itself is shared by a VM's vCPUs in the engine and owned by the vCPU in the mesh; the core
 * is given it.
 *
 * <p><b>Counters</b> are {@link Counter}s of source {@code VCPU}, plus the shell's own ({@code
 * MESH}) that the actor {@linkplain #count counts} through the core; the simulated clock is a
 * function of them ({@code SimClock}).
 *
 * <p>Not thread-safe; one per vCPU.
 */
public final class VcpuCore {
  /** Failure texts a run (or a batch) keeps; more failures are only counted. */
  public static final int MAX_FAILURES_KEPT = 20;

  private final long[] counts = new long[Counter.COUNT];
  private final Tlb tlb;
  private final CBitWatch cWatch;
  private final LivelockBound livelock;
  private final PageFaultHandler handler;

  /**
   * The needs this core answers with, one of each kind, refilled (a hit or a miss allocates no
   * need; {@link Need.Hit}): a need is valid until the driver's next call on this core.
   */
  private final Need.Hit hit = new Need.Hit(-1, false, false);

  private final Need.SegmentVsid segmentVsid = new Need.SegmentVsid(-1);
  private final Need.HostLookup hostLookup = new Need.HostLookup(-1, -1);
  private final Need.Fault faultNeed = new Need.Fault(null);

  private int mode;

  // the access in progress
  private Access kind;
  private long ea;
  private long tag;
  private HostFault fault;
  private Access xlateAccess;
  private boolean xlateCAfter;

  /**
   * A core with a fresh fault handler and livelock bound.
   *
   * @param tlb the vCPU's TLB
   * @param cWatch the C-bit watch (the VM's in the engine, the vCPU's own in the mesh)
   * @param handler the vCPU's fault handler
   * @param maxFaultsPerAccess the livelock bound (1 to 1000)
   * @param counts counters to continue from (a vCPU restored from parking), or {@link
   *     Counts#zero()}
   */
  public VcpuCore(
      Tlb tlb, CBitWatch cWatch, PageFaultHandler handler, int maxFaultsPerAccess, Counts counts) {
    this.tlb = tlb;
    this.cWatch = cWatch;
    this.handler = handler;
    this.livelock = new LivelockBound(maxFaultsPerAccess);
    long[] c = counts.values();
    System.arraycopy(c, 0, this.counts, 0, c.length);
  }

  /** The vCPU's TLB. */
  public Tlb tlb() {
    return tlb;
  }

  /** The C-bit watch. */
  public CBitWatch cWatch() {
    return cWatch;
  }

  /** The translation mode (IR/DR/PR bits) TLB tags are computed in. */
  public void setMode(int mode) {
    this.mode = mode;
  }

  // ---- The access ------------------------------------------------------------------------------

  /**
   * Starts an access (counted): a TLB hit that permits it ({@link Need.Hit}, counted), or, on a
   * miss, the {@linkplain #miss first need of a miss}.
   *
   * @param epoch the host HPTE epoch the TLB entries must carry (older ones are dead)
   */
  public Need begin(Access kind, long ea, long epoch) {
    this.kind = kind;
    this.ea = ea;
    counts[Counter.ACCESSES.ordinal()]++;
    counts[
        (kind == Access.LOAD
                ? Counter.LOADS
                : kind == Access.STORE ? Counter.STORES : Counter.IFETCHES)
            .ordinal()]++;
    tag = Tlb.tag(ea, mode);
    int t = tlb.lookup(tag, epoch);
    if (t >= 0 && permits(tlb.prot(t), kind)) {
      counts[Counter.TLB_HITS.ordinal()]++;
      return hit.set(tlb.pfn(t), true, watchedStore(tlb.prot(t)));
    }
    livelock.startAccess();
    return miss();
  }

  /**
   * The first need of a TLB miss, and of the access's retry after an exit (the guest resumes and
   * the hardware searches again): the guest VSID of the access's segment. Changes nothing.
   */
  public Need miss() {
    return segmentVsid.set(ea >>> 28);
  }

  /**
   * The segment's guest VSID ({@link VsidTags#NO_VSID} when none): without one the hardware finds
   * no HPTE (a NOHPTE exit), else the host HTAB is searched.
   */
  public Need onVsid(long gvsid) {
    if (gvsid == VsidTags.NO_VSID) {
      fault = HostFault.noHpte(kind, ea);
      return faultNeed.set(fault);
    }
    return hostLookup.set(gvsid, ea);
  }

  /** Whether TLB protection {@code prot} permits {@code kind} (loads always; spec 5.1). */
  public static boolean permits(int prot, Access kind) {
    return switch (kind) {
      case LOAD -> true;
      case STORE -> (prot & Tlb.PROT_WRITE) != 0;
      case IFETCH -> (prot & Tlb.PROT_EXEC) != 0;
    };
  }

  /** The access in progress. */
  public Access kind() {
    return kind;
  }

  /** Its effective address. */
  public long ea() {
    return ea;
  }

  /**
   * The host HTAB search's answer for the access in progress. When the host HPTE permits the access
   * the TLB is filled (with the C-bit watch's bit where due): a {@link Need.Hit} (an HTAB hit,
   * counted); otherwise the exit: NOHPTE without an HPTE, PROTFAULT for a store, NOEXEC for a
   * fetch.
   *
   * @param slot the host HPTE's slot, or negative when there is none
   * @param protection its protection (ignored without one)
   * @param pfn the frame it maps
   * @param epoch the epoch to stamp the TLB entry with
   */
  public Need onLookup(int slot, Lookup protection, int pfn, long epoch) {
    if (slot >= 0 && protection.permits(kind)) {
      int prot =
          cWatch.tlbProt(
              ea,
              (protection.isWritable() ? Tlb.PROT_WRITE : 0)
                  | (protection.isExecutable() ? Tlb.PROT_EXEC : 0));
      tlb.fill(tag, epoch, slot, pfn, prot);
      counts[Counter.HTAB_HITS.ordinal()]++;
      return hit.set(pfn, false, watchedStore(prot));
    }
    if (slot < 0) {
      fault = HostFault.noHpte(kind, ea);
    } else {
      fault = kind == Access.STORE ? HostFault.protection(ea) : HostFault.noExecute(ea);
    }
    return faultNeed.set(fault);
  }

  /**
   * Counts one fault of the access under the livelock bound (spec section 10).
   *
   * @param forcedByOthers the fault follows a flush another agent requested ({@link LivelockBound})
   * @return null if the access may take it, else the failure cause
   */
  public String admit(boolean forcedByOthers) {
    return livelock.admit(forcedByOthers);
  }

  /** The exit's name as the hardware reports it: NOHPTE, NOEXEC (SRR1) or PROTFAULT (DSISR). */
  public static String exitName(HostFault f) {
    if (!f.isData()) {
      return (f.bits() & FaultBits.SRR1_NOTFOUND) != 0 ? "NOHPTE" : "NOEXEC";
    }
    return (f.bits() & FaultBits.DSISR_NOHPTE) != 0 ? "NOHPTE" : "PROTFAULT";
  }

  private static Counter exitCounter(HostFault f) {
    if (!f.isData()) {
      return (f.bits() & FaultBits.SRR1_NOTFOUND) != 0
          ? Counter.NOHPTE_EXITS
          : Counter.NOEXEC_EXITS;
    }
    return (f.bits() & FaultBits.DSISR_NOHPTE) != 0
        ? Counter.NOHPTE_EXITS
        : Counter.PROTFAULT_EXITS;
  }

  // ---- The exit: the fault handler's steps
  // -------------------------------------------------------

  /** The exit {@code f} (admitted): counted; the fault handler's first step. */
  public FaultStep onFault(HostFault f, CpuState cpu) {
    fault = f;
    counts[exitCounter(f).ordinal()]++;
    xlateCAfter = false;
    return next(handler.onFault(f, cpu));
  }

  /** The guest xlate's answer ({@code null}: not run, real mode) and the segment's guest VSID. */
  public FaultStep onXlated(XlateResult r, long gvsid) {
    xlateCAfter = r != null && r.cAfter();
    if (r != null && r.setC() && xlateAccess != Access.STORE) {
      counts[Counter.SPURIOUS_C.ordinal()]++;
    }
    return next(handler.onXlated(r, gvsid));
  }

  /** {@code gfn_to_pfn_prot}'s answer. */
  public FaultStep onPfn(PfnResult p) {
    return next(handler.onPfn(p));
  }

  /** The host unmapped the old HPTE (counted). */
  public FaultStep onUnmapped() {
    counts[Counter.UNMAPS.ordinal()]++;
    return next(handler.onUnmapped());
  }

  /**
   * The host's answer to {@code map_page}: installed (read-only or read/write, with or without
   * {@code mark_page_dirty}) or refused by the notifier guard; counted, and an installed writable
   * mapping of a non-store fault with C clear starts a C-bit watch on {@code eaddr}.
   */
  public FaultStep onMapped(boolean installed, boolean readOnly, boolean markDirty, long eaddr) {
    if (installed) {
      counts[(readOnly ? Counter.HOST_MAPS_RO : Counter.HOST_MAPS_RW).ordinal()]++;
      if (markDirty) {
        counts[Counter.MARK_DIRTY.ordinal()]++;
      }
      cWatch.onMapped(eaddr, readOnly, xlateCAfter, fault.access());
    } else {
      counts[Counter.MAPS_REFUSED.ordinal()]++;
    }
    return next(handler.onMapped(installed));
  }

  /** Forgets a fault in progress (its driver gave up on it). */
  public void resetFault() {
    handler.reset();
  }

  private FaultStep next(FaultStep s) {
    if (s instanceof FaultStep.Xlate x) {
      xlateAccess = x.access();
    } else if (s instanceof FaultStep.Reflect r) {
      counts[
          (r.vector() < FaultBits.VEC_ISI ? Counter.REFLECTED_DSI : Counter.REFLECTED_ISI)
              .ordinal()]++;
      counts[
          switch (r.kind()) {
            case NOT_FOUND -> Counter.REFLECTED_NOT_FOUND.ordinal();
            case PROTECTION -> Counter.REFLECTED_PROTECTION.ordinal();
            case SEGMENT -> Counter.REFLECTED_SEGMENT.ordinal();
            case RAW -> Counter.REFLECTED_RAW.ordinal();
          }]++;
    } else if (s instanceof FaultStep.MmioExit) {
      counts[Counter.MMIO_EXITS.ordinal()]++;
    } else if (s instanceof FaultStep.Resume res && res.mapFailed()) {
      counts[Counter.MAP_FAILURES.ordinal()]++;
    }
    return s;
  }

  // ---- Completion ------------------------------------------------------------------------------

  /** Whether the access, completing through TLB protection {@code prot}, must read the C bit. */
  private boolean watchedStore(int prot) {
    return kind == Access.STORE && (prot & CBitWatch.PROT_WATCH_C) != 0;
  }

  /**
   * The guest C bit read for a watched store ({@link Need.Hit#readC}): a missed C is counted, else
   * the watch ends and the TLB entry loses its watch bit.
   *
   * @param guestPteFound a guest HPTE translates the access's address now
   * @param c its C bit
   * @param epoch the epoch TLB entries must carry
   */
  public void onCRead(boolean guestPteFound, boolean c, long epoch) {
    if (cWatch.onWatchedStore(ea, guestPteFound, c) == CBitWatch.Verdict.MISSED_C) {
      counts[Counter.MISSED_C.ordinal()]++;
    } else {
      int t = tlb.lookup(tag, epoch);
      if (t >= 0) {
        tlb.clearProt(t, CBitWatch.PROT_WATCH_C);
      }
    }
  }

  /**
   * The access in progress failed: counted; its failure text ("vm V vcpu C KIND at 0xEA: cause").
   */
  public String fail(int vm, int vcpu, String cause) {
    return fail(vm, vcpu, kind, ea, cause);
  }

  /** An access of {@code kind} at {@code ea} failed (or was never run): counted; its text. */
  public String fail(int vm, int vcpu, Access kind, long ea, String cause) {
    counts[Counter.FAILED_ACCESSES.ordinal()]++;
    return String.format("vm %d vcpu %d %s at 0x%x: %s", vm, vcpu, kind, ea, cause);
  }

  // ---- Checkpoint (style rule 26)
  // ----------------------------------------------------------------

  /**
   * The core's state at a lockstep barrier: counters, mode, the livelock bound (configuration) and
   * the TLB's entries valid at {@code epoch}. The access fields ({@code kind}, {@code ea}, {@code
   * tag}, {@code fault}, {@code xlateAccess}, {@code xlateCAfter}) and the livelock bound's counts
   * belong to the access in progress and are set afresh by {@link #begin}: at a barrier no access
   * is in flight, so they are dead and not written. The C-bit watch is its owner's to checkpoint
   * (the VM's in the engine). Pure: changes nothing.
   *
   * @param epoch the VM's host-HPTE invalidation epoch now
   * @throws IllegalStateException when a fault is in flight (not at a barrier)
   */
  public VcpuCoreState checkpoint(long epoch) {
    if (handler.busy()) {
      throw new IllegalStateException(
          "checkpoint: a fault is in flight; allowed only at a lockstep barrier (no access"
              + " in progress)");
    }
    VcpuCoreState.Builder b =
        VcpuCoreState.newBuilder()
            .setMode(mode)
            .setMaxFaultsPerAccess(livelock.maxFaults())
            .setTlb(tlb.checkpoint(epoch));
    for (long c : counts) {
      b.addCounters(c);
    }
    return b.build();
  }

  /**
   * Puts {@code state} into this freshly built core (same TLB size and livelock bound).
   *
   * @throws CheckpointMismatchException naming the field and both values (or the allowed range);
   *     nothing changed then
   */
  public void restore(VcpuCoreState state) {
    CheckpointMismatchException.requireEqual(
        "max_faults_per_access", state.getMaxFaultsPerAccess(), livelock.maxFaults());
    CheckpointMismatchException.requireEqual(
        "counters (count)", state.getCountersCount(), counts.length);
    CheckpointMismatchException.checkRange("mode", state.getMode(), 0, 7);
    tlb.restore(state.getTlb()); // checks before it changes anything
    for (int i = 0; i < counts.length; i++) {
      counts[i] = state.getCounters(i);
    }
    mode = state.getMode();
  }

  // ---- Counters --------------------------------------------------------------------------------

  /** Counts one event of the shell's own ({@code MESH} counters: timeouts, retries, ...). */
  public void count(Counter c) {
    counts[c.ordinal()]++;
  }

  /** Counts {@code n} events. */
  public void count(Counter c, long n) {
    counts[c.ordinal()] += n;
  }

  /** A counter's value now. */
  public long get(Counter c) {
    return counts[c.ordinal()];
  }

  /** The counters now. */
  public Counts counts() {
    return new Counts(counts);
  }

  /** Adds the counters into {@code into} (one counter vector per VM or run). */
  public void addTo(long[] into) {
    for (int i = 0; i < counts.length; i++) {
      into[i] += counts[i];
    }
  }
}
