package org.mmumesh.guestmmu;

import static org.mmumesh.common.VsidTags.KVM_PAM;

import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

/**
 * The first step of both MMU models' xlate (spec 2.8 and 3.2): an access in supervisor mode to the
 * page of the paravirtual magic page ({@code vcpu->arch.magic_page_ea}) translates to its guest
 * physical page, read-write-execute, with no HTAB walk and no HPTE.
 */
final class MagicPage {
  private MagicPage() {}

  /** True if {@code ea} is in the magic page and the vCPU is in supervisor mode. */
  static boolean hits(CpuState cpu, long ea) {
    long mpEa = cpu.magicPageEa();
    return mpEa != 0 && (ea & ~0xFFFL) == (mpEa & ~0xFFFL) && !cpu.msrPr();
  }

  /**
   * The translation of a magic-page hit ({@link #hits}): 4 KiB, RWX, real address {@code
   * (magic_page_pa | offset) & KVM_PAM}; {@code vp} is the model's {@code ea_to_vp}.
   */
  static XlateResult xlate(CpuState cpu, long ea, long vp, XlateTrace t) {
    long raddr = (cpu.magicPagePa() | (ea & 0xFFF)) & KVM_PAM;
    Traces.step(t, "magic page hit: raddr 0x" + Long.toHexString(raddr) + ", RWX");
    return XlateResult.withoutHpte(
        XlateStatus.OK, new GuestPte(ea, vp, raddr, true, true, true, PageSize.SIZE_4K));
  }
}
