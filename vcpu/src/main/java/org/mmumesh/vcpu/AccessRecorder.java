package org.mmumesh.vcpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.GuestPte;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;

/**
 * Records the steps of one access as the {@link Vcpu}'s fault path takes them, and builds its
 * {@link AccessTrace}. The vCPU holds a recorder only while it traces an access ({@code
 * Vcpu.TraceAccess}); on every other access the field is null and each hook is one null check, so
 * batches pay nothing. The recorder decides nothing: it notes what the one decision procedure
 * ({@link PageFaultHandler}, the actors' replies) did.
 */
public final class AccessRecorder {

  /** One exit being recorded. */
  private static final class Fault {
    final AccessTrace.FaultKind kind;
    AccessTrace.XlateTrace xlate;
    AccessTrace.GfnToPfnTrace gfnToPfn;
    Long unmappedVpage;
    AccessTrace.MapTrace map;
    AccessTrace.ReflectTrace reflected;
    Long mmioAddr;

    Fault(AccessTrace.FaultKind kind) {
      this.kind = kind;
    }

    AccessTrace.FaultTrace build() {
      return new AccessTrace.FaultTrace(
          kind, xlate, gfnToPfn, unmappedVpage, map, reflected, mmioAddr);
    }
  }

  private final List<Fault> faults = new ArrayList<>(2);
  private Fault current;
  private boolean tlbHit;
  private boolean hostHpteHit;
  private boolean ended;
  private boolean completed;
  private String failure;
  private long guestRealAddr = -1;
  private long hostPfn = -1;
  private long loadedValue;
  private AccessTrace.Rc rcBefore;
  private AccessTrace.Rc rcAfter;

  /** The TLB translated the access to {@code pfn}. */
  public void tlbHit(int pfn) {
    tlbHit = true;
    hostPfn = pfn;
  }

  /** A host HPTE translated the access to {@code pfn} (after a TLB miss). */
  public void hostHpteHit(int pfn) {
    hostHpteHit = faults.isEmpty();
    hostPfn = pfn;
  }

  /** An exit with the fault bits of {@code f} (classified as the vCPU counts it). */
  public void fault(HostFault f) {
    AccessTrace.FaultKind k;
    if (!f.isData()) {
      k =
          (f.bits() & FaultBits.SRR1_NOTFOUND) != 0
              ? AccessTrace.FaultKind.NOHPTE
              : AccessTrace.FaultKind.NOEXEC;
    } else {
      k =
          (f.bits() & FaultBits.DSISR_NOHPTE) != 0
              ? AccessTrace.FaultKind.NOHPTE
              : AccessTrace.FaultKind.PROTFAULT;
    }
    current = new Fault(k);
    faults.add(current);
  }

  /** The guest xlate's answer. */
  public void xlate(XlateResult r) {
    if (current == null || r == null) {
      return;
    }
    GuestPte p = r.pte();
    current.xlate =
        p == null
            ? new AccessTrace.XlateTrace(status(r.status()), 0, 0, false, false, false, 0)
            : new AccessTrace.XlateTrace(
                status(r.status()),
                p.raddr(),
                p.vpage(),
                p.mayRead(),
                p.mayWrite(),
                p.mayExecute(),
                p.pageSize() == null ? 0 : p.pageSize().bytes());
    if (p != null) {
      guestRealAddr = p.raddr();
    }
  }

  /** {@code gfn_to_pfn_prot(gfn)}'s answer. */
  public void gfnToPfn(long gfn, PfnResult r) {
    if (current == null || r == null) {
      return;
    }
    current.gfnToPfn =
        new AccessTrace.GfnToPfnTrace(
            gfn,
            r.ok() ? r.pfn() : -1,
            r.writable(),
            r.status() == PfnStatus.NOSLOT,
            r.cow(),
            r.notifierSeq());
  }

  /** {@code pte_vflush} of {@code vpage} done. */
  public void unmapped(long vpage) {
    if (current != null) {
      current.unmappedVpage = vpage;
    }
  }

  /** {@code map_page} of {@code pfn} answered. */
  public void mapped(int pfn, boolean installed, boolean readOnly) {
    if (current != null) {
      current.map = new AccessTrace.MapTrace(pfn, installed && !readOnly, !installed);
    }
  }

  /** The exit ended in a reflected interrupt. */
  public void reflected(FaultStep.Reflect r) {
    if (current != null) {
      current.reflected =
          new AccessTrace.ReflectTrace(
              r.vector(),
              r.dar(),
              r.dsisr(),
              r.msrBits(),
              r.kind().name().toLowerCase(Locale.ROOT));
    }
  }

  /** The exit ended in MMIO emulation at guest-real {@code paddr}. */
  public void mmio(long paddr) {
    if (current != null) {
      current.mmioAddr = paddr;
    }
    guestRealAddr = paddr;
    hostPfn = -1;
  }

  /** The access completed. */
  public void completed() {
    if (!ended) {
      ended = true;
      completed = true;
    }
  }

  /** The access was reported failed with {@code cause}. */
  public void failed(String cause) {
    if (!ended) {
      ended = true;
      completed = false;
      failure = cause;
      hostPfn = -1;
    }
  }

  public boolean isCompleted() {
    return completed;
  }

  public long hostPfn() {
    return hostPfn;
  }

  public void rcBefore(AccessTrace.Rc rc) {
    rcBefore = rc;
  }

  public void rcAfter(AccessTrace.Rc rc) {
    rcAfter = rc;
  }

  public void loadedValue(long v) {
    loadedValue = v;
  }

  /** The trace as recorded so far. */
  public AccessTrace build() {
    List<AccessTrace.FaultTrace> f = new ArrayList<>(faults.size());
    for (Fault x : faults) {
      f.add(x.build());
    }
    return new AccessTrace(
        tlbHit,
        hostHpteHit,
        f,
        completed,
        failure,
        guestRealAddr,
        hostPfn,
        loadedValue,
        rcBefore,
        rcAfter);
  }

  /** The guest MMU's xlate status as a trace reports it (constant for constant, by name). */
  static AccessTrace.XlateStatus status(XlateStatus s) {
    return switch (s) {
      case OK -> AccessTrace.XlateStatus.OK;
      case ENOENT -> AccessTrace.XlateStatus.ENOENT;
      case EPERM -> AccessTrace.XlateStatus.EPERM;
      case EINVAL -> AccessTrace.XlateStatus.EINVAL;
    };
  }
}
