package org.mmumesh.common;

import java.util.List;

/**
 * What one traced access did, step by step (issue 5, the gateway's {@code Access} RPC; its fields
 * are those of {@code mmumesh.v1.AccessTrace}). Built by the vCPU core's {@code AccessRecorder}
 * from the steps the vCPU's one fault path took (spec 6.1, 6.2): nothing here is inferred after the
 * fact. One type from the vCPU to the {@code Simulation} port: the vCPU actor replies with it and
 * the port answers it as is (no per-field copy between layers).
 *
 * @param tlbHit the access hit the vCPU's TLB (no exit)
 * @param hostHpteHit the TLB missed but a host HPTE translated it with no exit in this access
 * @param faults the exits taken, in order (a store to a read-only page may take NOHPTE, then
 *     PROTFAULT)
 * @param completed the access completed; false: reported failed ({@code failure})
 * @param failure why it failed, or null
 * @param guestRealAddr the guest-real address the access used, as the last xlate of this access (or
 *     the MMIO exit) gave it; -1 when no xlate ran in this access (a TLB or host HPTE hit: the vCPU
 *     does not know the guest-real address of a hit)
 * @param hostPfn the host frame the access finally used; -1 for none (MMIO, failed)
 * @param loadedValue the word a completed load or fetch returned ({@code Fingerprint.loadWord} of
 *     the frame's content after the access); 0 for stores, MMIO and failed accesses
 * @param rcBefore the guest HPTE's R and C before the access, or null (no HPTE translates the
 *     address: real mode, BAT, none yet)
 * @param rcAfter R and C after the access, or null
 */
public record AccessTrace(
    boolean tlbHit,
    boolean hostHpteHit,
    List<FaultTrace> faults,
    boolean completed,
    String failure,
    long guestRealAddr,
    long hostPfn,
    long loadedValue,
    Rc rcBefore,
    Rc rcAfter)
    implements CborSerializable {

  /** Defensive copy of the faults. */
  public AccessTrace {
    faults = List.copyOf(faults);
  }

  /** A guest HPTE's referenced and changed bits. */
  public record Rc(boolean referenced, boolean changed) {}

  /**
   * The return codes of the kernel's xlate (spec section 4), as a trace reports them (the guest MMU
   * core's own {@code XlateStatus}, with its errno, maps onto these one for one).
   */
  public enum XlateStatus {
    /** Translation found and the access is permitted. */
    OK,
    /** No BAT and no matching PTE in either PTEG (or, with Q2, a hidden primary -EPERM). */
    ENOENT,
    /** Matching PTE found but the access is not permitted. */
    EPERM,
    /** 64-bit only: no SLB entry for the effective address (a segment interrupt). */
    EINVAL
  }

  /** The kinds of exit {@code kvmppc_handle_pagefault} sees (spec 6.1). */
  public enum FaultKind {
    /** No host HPTE (DSISR / SRR1 "not found"). */
    NOHPTE,
    /** A store hit a read-only host HPTE (DSISR "protection"). */
    PROTFAULT,
    /** An instruction fetch hit a no-execute host HPTE. */
    NOEXEC
  }

  /**
   * One exit and what its handling did; the optional parts are null when the step did not happen.
   *
   * @param unmappedVpage the vpage {@code pte_vflush}ed before the map, or null
   * @param mmioAddr the guest-real address of an MMIO exit, or null
   */
  public record FaultTrace(
      FaultKind kind,
      XlateTrace xlate,
      GfnToPfnTrace gfnToPfn,
      Long unmappedVpage,
      MapTrace map,
      ReflectTrace reflected,
      Long mmioAddr) {}

  /**
   * The guest xlate's result (spec 2.8 / 3.8); address fields are 0 and permissions false when no
   * HPTE matched.
   */
  public record XlateTrace(
      XlateStatus status,
      long guestRealAddr,
      long vpage,
      boolean mayRead,
      boolean mayWrite,
      boolean mayExecute,
      long pageSizeBytes) {}

  /**
   * The answer of {@code gfn_to_pfn_prot} (spec 5.1).
   *
   * @param hostPfn -1 when no frame was returned
   * @param mmio no memslot covers the gfn (an MMIO exit follows)
   * @param cow a copy-on-write break gave the writable frame
   * @param notifierSeq the notifier sequence the answer was taken at (the retry guard's snapshot)
   */
  public record GfnToPfnTrace(
      long guestFrame,
      long hostPfn,
      boolean writable,
      boolean mmio,
      boolean cow,
      long notifierSeq) {}

  /**
   * A {@code map_page}: {@code writable} is the host HPTE's protection when installed; {@code
   * refusedRetry}: the {@code mmu_notifier_retry} guard refused it and the vCPU re-faulted.
   */
  public record MapTrace(long hostPfn, boolean writable, boolean refusedRetry) {}

  /**
   * A reflected interrupt: vector 0x300 DSI, 0x380 DSLB, 0x400 ISI, 0x480 ISLB; {@code kind} one of
   * {@code not_found}, {@code protection}, {@code segment}, {@code raw}.
   */
  public record ReflectTrace(int vector, long dar, long dsisr, long srr1Bits, String kind) {}
}
