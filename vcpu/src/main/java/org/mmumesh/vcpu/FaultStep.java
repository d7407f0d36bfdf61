package org.mmumesh.vcpu;

import org.mmumesh.common.Access;
import org.mmumesh.common.GuestPte;

/**
 * What {@link PageFaultHandler} asks next. The first four are requests whose reply must be fed back
 * ({@code onXlated}, {@code onPfn}, {@code onUnmapped}, {@code onMapped}); the rest end the fault.
 */
public sealed interface FaultStep {

  /** True when the fault is over (no reply expected). */
  default boolean terminal() {
    return false;
  }

  /**
   * Ask the guest MMU: {@code mmu.xlate(ea, access)} when {@code relocated}, and in every case the
   * guest VSID of {@code ea}'s segment ({@code esid_to_vsid}).
   */
  record Xlate(long ea, Access access, boolean relocated) implements FaultStep {}

  /** Ask the page frames, under a memslot read lease: {@code gfn_to_pfn_prot(gfn, writeFault)}. */
  record GfnToPfn(long gfn, boolean writeFault) implements FaultStep {}

  /** Ask the host MMU: {@code kvmppc_mmu_unmap_page} (spec 5.5). */
  record UnmapPage(GuestPte pte, boolean vsid64k) implements FaultStep {}

  /**
   * Ask the host MMU: {@code kvmppc_mmu_map_page} with the frame found (spec 5.3). With {@code
   * guardSeq >= 0} the host must refuse ({@code onMapped(false)}) if a notifier invalidation ran
   * since that sequence number (the {@code mmu_notifier_retry} guard of later kernels).
   */
  record MapPage(GuestPte pte, long gvsid, int pfn, boolean writable, long guardSeq)
      implements FaultStep {}

  /**
   * End: deliver an exception to the guest.
   *
   * @param vector 0x300, 0x380, 0x400 or 0x480
   * @param dar the DAR given to the guest (data faults)
   * @param dsisr the DSISR given to the guest (data faults)
   * @param msrBits the SRR1 bits ORed into the guest MSR
   * @param kind why
   */
  record Reflect(int vector, long dar, long dsisr, long msrBits, ReflectKind kind)
      implements FaultStep {
    @Override
    public boolean terminal() {
      return true;
    }
  }

  /** End: the gfn is not guest RAM; the access is emulated as MMIO. */
  record MmioExit(long paddr, long eaddr) implements FaultStep {
    @Override
    public boolean terminal() {
      return true;
    }
  }

  /**
   * End: resume the guest, which retries the access ({@code RESUME_GUEST}).
   *
   * @param mapFailed map_page failed and the failure was ignored (quirk Q7)
   */
  record Resume(boolean mapFailed) implements FaultStep {
    @Override
    public boolean terminal() {
      return true;
    }
  }

  /** End: the access cannot complete (a map failure reported at once, Q7 off). */
  record Failed(String cause) implements FaultStep {
    @Override
    public boolean terminal() {
      return true;
    }
  }

  /** Why a fault went to the guest. */
  enum ReflectKind {
    /** xlate found no translation: a "not found" DSI/ISI with the host's DSISR/SRR1. */
    NOT_FOUND,
    /** xlate returned -EPERM: DSISR with NOHPTE cleared and PROTFAULT set. */
    PROTECTION,
    /** 64-bit: no SLB entry: a segment interrupt (vector + 0x80). */
    SEGMENT,
    /** Not handled by handle_pagefault at all (spec 6.1): a raw DSI/ISI from the host. */
    RAW
  }
}
