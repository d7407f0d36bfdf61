package org.mmumesh.pageframe;

/**
 * The result of {@link PageFrames#gfnToPfnProt(int, long, boolean)} (spec 5.1).
 *
 * @param status OK or the error class
 * @param pfn the host frame (only meaningful when {@code status == OK}; -1 otherwise)
 * @param writable whether the host mapping may be written through (the kernel's {@code *writable})
 * @param notifierSeq the VM's MMU-notifier sequence number read at the start of the call; a mapper
 *     must refuse to install a mapping if {@link PageFrames#notifierSeq(int)} differs later (the
 *     {@code mmu_notifier_retry} guard). A COW break done by this very call bumps the sequence.
 * @param cow this call broke copy-on-write (a KSM, zero or COW-shared page was copied) to give a
 *     writable frame (reported in traces)
 */
public record PfnResult(
    PfnStatus status, int pfn, boolean writable, long notifierSeq, boolean cow) {

  /** A result without a copy-on-write break. */
  public PfnResult(PfnStatus status, int pfn, boolean writable, long notifierSeq) {
    this(status, pfn, writable, notifierSeq, false);
  }

  /** True when a frame was returned. */
  public boolean ok() {
    return status == PfnStatus.OK;
  }

  public static PfnResult error(PfnStatus status, long notifierSeq) {
    return new PfnResult(status, -1, false, notifierSeq);
  }
}
