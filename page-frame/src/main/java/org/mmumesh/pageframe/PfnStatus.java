package org.mmumesh.pageframe;

/**
 * Outcome class of {@code gfn_to_pfn_prot} (spec 5.1). Only {@link #OK} carries a pfn; the others
 * are the kernel's error pfns.
 */
public enum PfnStatus {
  /** A frame was found (or created); see the pfn and writable fields. */
  OK,
  /** No memslot covers the gfn: the access is MMIO (KVM_PFN_NOSLOT). */
  NOSLOT,
  /** A write fault on a read-only memslot (KVM_PFN_ERR_RO_FAULT). */
  RO_FAULT,
  /** The host refused the fault, e.g. a write to a PROT_READ mapping (KVM_PFN_ERR_FAULT, Q7). */
  FAULT
}
