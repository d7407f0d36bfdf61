package org.mmumesh.hostmmu.actor;

import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

/** Guest translations shared by the actor tests (F64 guest on a 64-bit host). */
final class HostMmuFixtures {
  private HostMmuFixtures() {}

  static final long GVSID1 = 0x1234L;
  static final long GVSID2 = 0xABCDEL;

  /** A guest PTE for {@code ea} in segment {@code gvsid}, vpage as the guest MMU computes it. */
  static GuestPte pte(long gvsid, long ea, long raddr, boolean mayWrite) {
    long vpage = (gvsid << 16) | ((ea & 0x0FFFFFFFL) >>> 12);
    return new GuestPte(ea, vpage, raddr, true, mayWrite, true, PageSize.SIZE_4K);
  }
}
