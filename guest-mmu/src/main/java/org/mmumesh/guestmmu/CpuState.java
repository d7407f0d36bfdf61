package org.mmumesh.guestmmu;

/**
 * The per-vCPU state a guest MMU model reads: the MSR bits that matter to translation and the magic
 * page, plus (in the subclasses) the model's segment state: SRs and BATs, or the SLB. Owned by one
 * vCPU; not thread-safe.
 */
public abstract sealed class CpuState permits Cpu32State, Cpu64State {
  private boolean msrPr;
  private boolean msrIr = true;
  private boolean msrDr = true;
  private long magicPageEa;
  private long magicPagePa;

  /** MSR[PR]: problem (user) state; selects the Kp key and VSID_PR. */
  public final boolean msrPr() {
    return msrPr;
  }

  /** MSR[IR]: instruction relocation. */
  public final boolean msrIr() {
    return msrIr;
  }

  /** MSR[DR]: data relocation. */
  public final boolean msrDr() {
    return msrDr;
  }

  /** The magic (paravirt shared) page's effective address, 0 when none. */
  public final long magicPageEa() {
    return magicPageEa;
  }

  /** The magic page's guest-real address. */
  public final long magicPagePa() {
    return magicPagePa;
  }

  final void msr(boolean pr, boolean ir, boolean dr) {
    this.msrPr = pr;
    this.msrIr = ir;
    this.msrDr = dr;
  }

  final void magicPage(long ea, long pa) {
    this.magicPageEa = ea;
    this.magicPagePa = pa;
  }
}
