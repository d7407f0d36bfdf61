package org.mmumesh.guestmmu;

import org.mmumesh.checkpoint.v1.GuestVcpuRegisters;

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

  /** Writes the MSR bits and the magic page (the subclass adds its segment state). */
  void checkpointInto(GuestVcpuRegisters.Builder b) {
    b.setMsrPr(msrPr)
        .setMsrIr(msrIr)
        .setMsrDr(msrDr)
        .setMagicPageEa(magicPageEa)
        .setMagicPagePa(magicPagePa);
  }

  /**
   * Checks that {@code r} fits this vCPU's model (the subclass's segment state), naming {@code
   * field}; changes nothing.
   */
  abstract void checkRegisters(String field, GuestVcpuRegisters r);

  /** Installs {@code r} (checked by {@link #checkRegisters}). */
  void restoreFrom(GuestVcpuRegisters r) {
    msr(r.getMsrPr(), r.getMsrIr(), r.getMsrDr());
    magicPage(r.getMagicPageEa(), r.getMagicPagePa());
  }
}
