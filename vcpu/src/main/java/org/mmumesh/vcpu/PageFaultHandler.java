package org.mmumesh.vcpu;

import static org.mmumesh.common.VsidTags.KVM_PAM;
import static org.mmumesh.common.VsidTags.NO_VSID;
import static org.mmumesh.common.VsidTags.VSID_64K;
import static org.mmumesh.common.VsidTags.VSID_REAL;
import static org.mmumesh.common.VsidTags.VSID_REAL_DR;
import static org.mmumesh.common.VsidTags.VSID_REAL_IR;

import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.guestmmu.CpuState;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;

/**
 * The exit routing of spec 6.1 and {@code kvmppc_handle_pagefault} of spec 6.2, written once, "sans
 * I/O": fed a fault and then each reply, it says what to ask next ({@link FaultStep}). The
 * sequential engine answers by calling the cores; the actor mesh answers by messages. One instance
 * per vCPU, handling one fault at a time.
 *
 * <pre>
 *   onFault --&gt; Xlate --onXlated--&gt; GfnToPfn --onPfn--&gt; [UnmapPage --onUnmapped--&gt;]
 *       MapPage --onMapped--&gt; Resume
 *   (or Reflect / MmioExit / Resume(mapFailed) / Failed at the step that decides it)
 * </pre>
 *
 * <p>Policies: {@code legacy} routes only NOHPTE data faults here (protection DSIs go raw to the
 * guest), always asks for write access and never unmaps; from the change on, PROTFAULT DSIs come
 * here too, loads ask for read access, and a data fault that found a host HPTE unmaps it first.
 * Without quirk Q4 ({@code strict}) a host HPTE is installed writable only when the guest C bit is
 * set (after this xlate), so no store can miss C. Without quirk Q8 the map is guarded by the
 * notifier sequence (later kernels). The order here runs gfn-to-pfn (which is also the kernel's
 * visible-gfn check) before the unmap; the end state is the kernel's.
 */
public final class PageFaultHandler {
  private final boolean legacy;
  private final boolean q4;
  private final boolean q7;
  private final boolean guard;

  private State state = State.IDLE;
  private HostFault fault;
  private boolean iswrite;
  private boolean relocated;
  private boolean msrIr;
  private boolean msrDr;
  private GuestPte pte;
  private long gvsid;
  private boolean cAfter;
  private PfnResult pfn;

  private enum State {
    IDLE,
    AWAIT_XLATE,
    AWAIT_PFN,
    AWAIT_UNMAP,
    AWAIT_MAP
  }

  public PageFaultHandler(MmuOptions options) {
    this.legacy = options.policy() == Policy.LEGACY;
    this.q4 = options.has(Quirk.Q4_C_CAN_BE_MISSED);
    this.q7 = options.has(Quirk.Q7_MAP_FAILURE_LOOPS);
    this.guard = !options.has(Quirk.Q8_NOTIFIER_FULL_FLUSH);
  }

  /** True while a fault is in progress. */
  public boolean busy() {
    return state != State.IDLE;
  }

  /** The translation of the fault in progress (after {@code onXlated}), or null. */
  public GuestPte pte() {
    return pte;
  }

  /**
   * A host fault (spec 6.1): decides whether handle_pagefault runs at all, and if so asks for the
   * translation.
   *
   * @throws IllegalStateException when a fault is already in progress
   */
  public FaultStep onFault(HostFault f, CpuState cpu) {
    expect(State.IDLE, "onFault");
    this.fault = f;
    this.pte = null;
    this.pfn = null;
    this.cAfter = false;
    this.msrIr = cpu.msrIr();
    this.msrDr = cpu.msrDr();
    if (f.isData()) {
      long handled = FaultBits.DSISR_NOHPTE | (legacy ? 0 : FaultBits.DSISR_PROTFAULT);
      if ((f.bits() & handled) == 0) {
        return end(new FaultStep.Reflect(FaultBits.VEC_DSI, f.ea(), f.bits(), 0, raw()));
      }
    } else if ((f.bits() & FaultBits.SRR1_NOTFOUND) == 0) {
      return end(
          new FaultStep.Reflect(
              FaultBits.VEC_ISI, 0, 0, f.bits() & FaultBits.SRR1_REFLECT_RAW_MASK, raw()));
    }
    iswrite = f.isData() && (f.bits() & FaultBits.DSISR_ISSTORE) != 0;
    relocated = f.isData() ? msrDr : msrIr;
    state = State.AWAIT_XLATE;
    Access access = f.isData() ? (iswrite ? Access.STORE : Access.LOAD) : Access.IFETCH;
    return new FaultStep.Xlate(f.ea(), access, relocated);
  }

  private static FaultStep.ReflectKind raw() {
    return FaultStep.ReflectKind.RAW;
  }

  /**
   * The guest MMU's answer (spec 6.2, first half): {@code r} is null when the access was not
   * relocated; {@code segmentVsid} is {@code esid_to_vsid(ea >>> 28)}.
   */
  public FaultStep onXlated(XlateResult r, long segmentVsid) {
    expect(State.AWAIT_XLATE, "onXlated");
    this.gvsid = segmentVsid;
    long ea = fault.ea();
    XlateStatus status;
    if (relocated) {
      status = r.status();
      pte = r.pte();
      cAfter = r.cAfter();
    } else {
      status = XlateStatus.OK;
      pte = new GuestPte(ea, ea >>> 12, ea & KVM_PAM, true, true, true, PageSize.SIZE_64K);
    }
    if (pte != null && (!msrDr || !msrIr)) {
      if (!msrDr && !msrIr) {
        pte = pte.withVpage(pte.vpage() | (VSID_REAL << 16));
      } else {
        long tag = msrDr ? VSID_REAL_DR : VSID_REAL_IR;
        pte = pte.withVpage(pte.vpage() | (tag << 16) | segmentVsid);
        if (segmentVsid == NO_VSID) {
          status = XlateStatus.EINVAL;
        }
      }
    }
    int vec = fault.vector();
    long srr1Bits = fault.isData() ? 0 : fault.bits() & FaultBits.SRR1_REFLECT_MASK;
    switch (status) {
      case ENOENT:
        return end(
            new FaultStep.Reflect(
                vec, ea, dsisrOrZero(), srr1Bits, FaultStep.ReflectKind.NOT_FOUND));
      case EPERM:
        return end(
            new FaultStep.Reflect(
                vec,
                ea,
                (dsisrOrZero() & ~FaultBits.DSISR_NOHPTE) | FaultBits.DSISR_PROTFAULT,
                srr1Bits,
                FaultStep.ReflectKind.PROTECTION));
      case EINVAL:
        return end(new FaultStep.Reflect(vec + 0x80, ea, 0, 0, FaultStep.ReflectKind.SEGMENT));
      default:
        state = State.AWAIT_PFN;
        // Before the change every map asked for a writable page (spec 1.2, 5.1).
        return new FaultStep.GfnToPfn(pte.gfn(), legacy || iswrite);
    }
  }

  private long dsisrOrZero() {
    return fault.isData() ? fault.bits() : 0;
  }

  /** The page frames' answer to {@link FaultStep.GfnToPfn}. */
  public FaultStep onPfn(PfnResult result) {
    expect(State.AWAIT_PFN, "onPfn");
    this.pfn = result;
    if (result.status() == PfnStatus.NOSLOT) {
      return end(new FaultStep.MmioExit(pte.raddr(), pte.eaddr()));
    }
    if (!legacy && fault.isData() && (fault.bits() & FaultBits.DSISR_NOHPTE) == 0) {
      state = State.AWAIT_UNMAP;
      return new FaultStep.UnmapPage(pte, (gvsid & VSID_64K) != 0 && gvsid != NO_VSID);
    }
    return mapOrFail();
  }

  /** The host MMU has removed the stale host HPTE. */
  public FaultStep onUnmapped() {
    expect(State.AWAIT_UNMAP, "onUnmapped");
    return mapOrFail();
  }

  private FaultStep mapOrFail() {
    if (!pfn.ok()) {
      // map_page returns -EINVAL and handle_pagefault ignores it (Q7): the guest faults again.
      return end(
          q7
              ? new FaultStep.Resume(true)
              : new FaultStep.Failed(
                  "gfn_to_pfn_prot(gfn 0x"
                      + Long.toHexString(pte.gfn())
                      + ", write) failed: "
                      + pfn.status()));
    }
    boolean writable = pfn.writable() && (q4 || iswrite || cAfter);
    state = State.AWAIT_MAP;
    return new FaultStep.MapPage(pte, gvsid, pfn.pfn(), writable, guard ? pfn.notifierSeq() : -1);
  }

  /** The host MMU's answer to {@link FaultStep.MapPage}: installed, or refused by the guard. */
  public FaultStep onMapped(boolean installed) {
    expect(State.AWAIT_MAP, "onMapped");
    return end(new FaultStep.Resume(false));
  }

  /** Abandons the fault in progress (e.g. its vCPU is reset). */
  public void reset() {
    state = State.IDLE;
  }

  private FaultStep end(FaultStep step) {
    state = State.IDLE;
    return step;
  }

  private void expect(State s, String call) {
    if (state != s) {
      throw new IllegalStateException(
          call + " is not allowed while the handler is " + state + "; expected " + s);
    }
  }
}
