package org.mmumesh.pageframe;

/**
 * The page-level operations KSM performs on host PTEs (spec 7.4): {@code write_protect_page}, a
 * page becoming a KSM page in place, {@code replace_page} (the merge itself) and {@code break_ksm}
 * (unmerge by a write fault). ksmd's scan and trees are elsewhere (module ksm); this is only what
 * it asks of the host's page tables. See {@link PageFrames} for the public form of each method.
 */
final class KsmPageOps {
  private final FrameTable frames;
  private final FrameRefs refs;
  private final HostNotifiers notifiers;
  private final HostFaults faults;

  KsmPageOps(FrameTable frames, FrameRefs refs, HostNotifiers notifiers, HostFaults faults) {
    this.frames = frames;
    this.refs = refs;
    this.notifiers = notifiers;
    this.faults = faults;
  }

  /** {@code write_protect_page}: see {@link PageFrames#writeProtectPage}. */
  boolean writeProtectPage(int vm, HostVm v, long hvaPage, int expectedPfn) {
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || HostMm.pfnOf(pte) != expectedPfn) {
      return false;
    }
    if (!HostMm.isWritable(pte)) {
      return true;
    }
    if (frames.pinCount(expectedPfn) > 0) {
      return false; // mapcount + 1 != page_count: restore the PTE and fail
    }
    v.mm.set(hvaPage, HostMm.encode(expectedPfn, false));
    notifiers.invalidateHva(vm, v, hvaPage, hvaPage + 1);
    return true;
  }

  /** See {@link PageFrames#makeKsmPage}. */
  void makeKsmPage(HostVm v, long hvaPage, int pfn) {
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || HostMm.pfnOf(pte) != pfn || HostMm.isWritable(pte)) {
      throw new IllegalStateException(
          "makeKsmPage: hva page " + hvaPage + " does not map pfn " + pfn + " read-only");
    }
    if (pfn == FrameTable.ZERO_PFN) {
      throw new IllegalStateException("makeKsmPage: the zero page cannot become a KSM page");
    }
    refs.markKsm(pfn);
  }

  /** {@code replace_page}: see {@link PageFrames#replacePage}. */
  boolean replacePage(int vm, HostVm v, long hvaPage, int expectedPfn, int kpfn) {
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || HostMm.pfnOf(pte) != expectedPfn || HostMm.isWritable(pte)) {
      return false;
    }
    if (!isKsmPage(kpfn) || expectedPfn == kpfn) {
      return false;
    }
    if (frames.fingerprint(expectedPfn) != frames.fingerprint(kpfn)) {
      return false;
    }
    refs.installOver(v.mm, hvaPage, kpfn);
    notifiers.invalidateHva(vm, v, hvaPage, hvaPage + 1);
    notifiers.merged(vm, v, hvaPage, expectedPfn, kpfn);
    return true;
  }

  /** {@code break_ksm}: see {@link PageFrames#breakKsm}. */
  boolean breakKsm(int vm, HostVm v, long hvaPage) {
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || !frames.isKsm(HostMm.pfnOf(pte))) {
      return false;
    }
    faults.copyOnWrite(vm, v, hvaPage, HostMm.pfnOf(pte));
    return true;
  }

  /** True if {@code pfn} is a live KSM page. */
  boolean isKsmPage(int pfn) {
    return frames.isLive(pfn) && frames.isKsm(pfn);
  }
}
