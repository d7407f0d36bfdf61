package org.mmumesh.guestmmu;

import org.mmumesh.common.GuestPte;

/**
 * The outcome of one xlate: the status and, for {@link XlateStatus#OK} and {@link
 * XlateStatus#EPERM}, the translation with its permissions (spec section 4). For ENOENT and EINVAL
 * {@code pte} is null.
 */
public record XlateResult(XlateStatus status, GuestPte pte) {

  static final XlateResult ENOENT = new XlateResult(XlateStatus.ENOENT, null);
  static final XlateResult EINVAL = new XlateResult(XlateStatus.EINVAL, null);

  /** True when the translation succeeded and the access is permitted. */
  public boolean ok() {
    return status == XlateStatus.OK;
  }
}
