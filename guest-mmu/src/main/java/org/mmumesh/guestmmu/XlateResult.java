package org.mmumesh.guestmmu;

import org.mmumesh.common.GuestPte;

/**
 * The outcome of one xlate: the status and, for {@link XlateStatus#OK} and {@link
 * XlateStatus#EPERM}, the translation with its permissions (spec section 4). For ENOENT and EINVAL
 * {@code pte} is null. For page-table hits, {@code rcBefore} and {@code rcAfter} give the matched
 * HPTE's R and C bits ({@link #R}, {@link #C}) before and after this xlate as the guest HPT holds
 * them; BAT and magic-page translations report {@link #NO_HPTE}.
 */
public record XlateResult(XlateStatus status, GuestPte pte, int rcBefore, int rcAfter) {

  /** The R bit in {@code rcBefore}/{@code rcAfter}. */
  public static final int R = 2;

  /** The C bit in {@code rcBefore}/{@code rcAfter}. */
  public static final int C = 1;

  /** No HPTE was involved (BAT, magic page, or no match). */
  public static final int NO_HPTE = -1;

  public static final XlateResult ENOENT =
      new XlateResult(XlateStatus.ENOENT, null, NO_HPTE, NO_HPTE);
  static final XlateResult EINVAL = new XlateResult(XlateStatus.EINVAL, null, NO_HPTE, NO_HPTE);

  /** A result that involved no HPTE. */
  static XlateResult withoutHpte(XlateStatus status, GuestPte pte) {
    return new XlateResult(status, pte, NO_HPTE, NO_HPTE);
  }

  /** True when the translation succeeded and the access is permitted. */
  public boolean ok() {
    return status == XlateStatus.OK;
  }

  /** True when this xlate set the guest C bit (it was clear and is now set). */
  public boolean setC() {
    return rcBefore >= 0 && (rcBefore & C) == 0 && (rcAfter & C) != 0;
  }

  /** True when the matched HPTE's C bit is set after this xlate. */
  public boolean cAfter() {
    return rcAfter >= 0 && (rcAfter & C) != 0;
  }

  /** R/C bits of an HPTE second word whose R is {@code rMask} and C is {@code cMask}. */
  static int rcOf(long word, long rMask, long cMask) {
    return ((word & rMask) != 0 ? R : 0) | ((word & cMask) != 0 ? C : 0);
  }
}
