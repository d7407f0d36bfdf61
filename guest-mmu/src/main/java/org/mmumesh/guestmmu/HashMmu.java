package org.mmumesh.guestmmu;

import org.mmumesh.common.Access;

/**
 * What {@link HashGuest} needs of a hashed-page-table MMU over one guest HTAB: {@link Hash32Mmu}
 * (spec 2) and {@link Hash64Mmu} (spec 3) each implement it for their CPU state.
 *
 * @param <C> the CPU state the MMU translates with (SRs and BATs, or the SLB)
 */
interface HashMmu<C extends CpuState> {

  /** The HTAB this MMU searches. */
  GuestHtab htab();

  /**
   * The kernel's xlate ({@code guestVisible}: R/C updated, faults reported; {@code guestVisible =
   * false}, the debug and inspection paths: no R/C written), each step described to {@code trace}
   * when it is not null.
   */
  XlateResult xlate(C cpu, long ea, Access access, boolean guestVisible, XlateTrace trace);

  /** {@link #xlate(CpuState, long, Access, boolean, XlateTrace)} without a trace. */
  default XlateResult xlate(C cpu, long ea, Access access, boolean guestVisible) {
    return xlate(cpu, ea, access, guestVisible, null);
  }

  /** {@code ea_to_vp}: the virtual page number of {@code ea} under {@code cpu}'s segments. */
  long eaToVp(C cpu, long ea);

  /** {@code esid_to_vsid}: the tagged guest VSID of segment {@code esid}. */
  long esidToVsid(C cpu, long esid);

  /** H_ENTER with second word {@code word1}; the HPTE's address, or -1 when both PTEGs are full. */
  long enter(C cpu, long ea, long word1);

  /** The HPTE translating {@code ea}, or -1. */
  long findPte(C cpu, long ea);

  /** The second word (RPN, R, C, PP) of the HPTE at {@code pteAddr}. */
  long readWord1(long pteAddr);

  /** Clears {@code bits} of the HPTE's second word; returns the word before. */
  long clearRc(long pteAddr, long bits);
}
