package org.mmumesh.common;

/**
 * A guest translation, the kernel's {@code struct kvmppc_pte} (spec section 4). It is what the
 * guest MMU's xlate produces and what the host side maps: the host MMU copies it into its
 * shadow-PTE cache, so it lives in {@code common} where both sides can see it.
 *
 * @param eaddr the effective address translated
 * @param vpage the guest virtual page number in 4 KiB units, including KVM's mode tag bits (spec
 *     5.2); computed with 64-bit wrap-around as the kernel does
 * @param raddr the guest real address, including the in-page offset
 * @param mayRead the protection allows reading
 * @param mayWrite the protection allows writing
 * @param mayExecute the protection allows instruction fetch
 * @param pageSize the guest page size
 */
public record GuestPte(
    long eaddr,
    long vpage,
    long raddr,
    boolean mayRead,
    boolean mayWrite,
    boolean mayExecute,
    PageSize pageSize) {

  /** The guest frame number of the 4 KiB page holding {@link #raddr()}. */
  public long gfn() {
    return raddr >>> 12;
  }

  /** A copy with a different {@code vpage} (the fault handler adds split-mode tags, spec 6.2). */
  public GuestPte withVpage(long newVpage) {
    return new GuestPte(eaddr, newVpage, raddr, mayRead, mayWrite, mayExecute, pageSize);
  }

  /** A copy with a different {@code mayExecute}. */
  public GuestPte withMayExecute(boolean exec) {
    return new GuestPte(eaddr, vpage, raddr, mayRead, mayWrite, exec, pageSize);
  }
}
