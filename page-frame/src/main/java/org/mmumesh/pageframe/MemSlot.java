package org.mmumesh.pageframe;

/**
 * One KVM memslot (spec 5.1): guest frames {@code [baseGfn, baseGfn + npages)} backed by host
 * virtual pages {@code [hvaPage, hvaPage + npages)} of the VM's host address space. Host addresses
 * are page numbers (hva / 4096), not byte addresses.
 *
 * @param id the slot id (unique per VM)
 * @param baseGfn first guest frame number
 * @param npages number of pages
 * @param hvaPage first host virtual page
 * @param readOnly KVM_MEM_READONLY: write faults return RO_FAULT and nothing is mapped writable
 */
public record MemSlot(int id, long baseGfn, long npages, long hvaPage, boolean readOnly) {

  /** One past the last guest frame. */
  public long endGfn() {
    return baseGfn + npages;
  }

  /** True if {@code gfn} lies in this slot. */
  public boolean contains(long gfn) {
    return gfn >= baseGfn && gfn < baseGfn + npages;
  }

  /** The host virtual page behind {@code gfn} (which must lie in the slot). */
  public long hvaOf(long gfn) {
    return hvaPage + (gfn - baseGfn);
  }

  /** True if both slots share a guest frame. */
  public boolean overlaps(long otherBase, long otherNpages) {
    return baseGfn < otherBase + otherNpages && otherBase < baseGfn + npages;
  }
}
