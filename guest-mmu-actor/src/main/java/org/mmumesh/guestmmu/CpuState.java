package org.mmumesh.guestmmu;

/**
 * The per-vCPU state a guest MMU model reads: the MSR bits that matter to translation, plus the
 * model's segment state (SRs and BATs, or the SLB). Owned by one vCPU; not thread-safe.
 */
public sealed interface CpuState permits Cpu32State, Cpu64State {

  /** MSR[PR]: problem (user) state; selects the Kp key and VSID_PR. */
  boolean msrPr();

  /** MSR[IR]: instruction relocation. */
  boolean msrIr();

  /** MSR[DR]: data relocation. */
  boolean msrDr();

  /** The magic (paravirt shared) page's effective address, 0 when none. */
  long magicPageEa();

  /** The magic page's guest-real address. */
  long magicPagePa();
}
