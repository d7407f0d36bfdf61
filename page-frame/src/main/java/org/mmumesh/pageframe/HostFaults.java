package org.mmumesh.pageframe;

import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;

/**
 * The host's page-fault paths behind guest memory (spec 5.1, 7.6): {@code gfn_to_pfn_prot} with its
 * {@code writable} answer, the write fault ({@code handle_mm_fault} with {@code FAULT_FLAG_WRITE}:
 * a fresh zeroed frame, reuse in place, or {@code do_wp_page}'s copy-on-write of a KSM page, the
 * zero page or a COW-shared frame), read faults that map the shared zero page, and the two
 * host-side writers that go through copy-on-write: boot-image population and fork-style COW
 * sharing. Keeps the fault statistics. See {@link PageFrames} for the public form of each method.
 */
final class HostFaults {
  private final FrameTable frames;
  private final FrameRefs refs;
  private final HostNotifiers notifiers;

  long cowBreaks;
  long cowKsm;
  long zeroPageCow;
  long zeroPageMaps;
  long freshAllocations;

  HostFaults(FrameTable frames, FrameRefs refs, HostNotifiers notifiers) {
    this.frames = frames;
    this.refs = refs;
    this.notifiers = notifiers;
  }

  /** {@code gfn_to_pfn_prot}: see {@link PageFrames#gfnToPfnProt}. */
  PfnResult gfnToPfnProt(int vm, HostVm v, long gfn, boolean writeFault) {
    Checks.inRange("gfn", gfn, 0, PageFrames.MAX_GFN);
    long seq = v.notifierSeq;
    MemSlot slot = v.slots.lookup(gfn);
    if (slot == null) {
      return PfnResult.error(PfnStatus.NOSLOT, seq);
    }
    if (slot.readOnly() && writeFault) {
      return PfnResult.error(PfnStatus.RO_FAULT, seq);
    }
    long hva = slot.hvaOf(gfn);
    if (writeFault) {
      if (v.mm.isProtRead(hva)) {
        return PfnResult.error(PfnStatus.FAULT, seq);
      }
      long breaksBefore = cowBreaks;
      int pfn = handleWriteFault(vm, v, hva);
      return new PfnResult(PfnStatus.OK, pfn, true, seq, cowBreaks != breaksBefore);
    }
    int pte = v.mm.get(hva);
    if (pte == HostMm.NONE) {
      refs.install(v.mm, hva, FrameTable.ZERO_PFN, false);
      zeroPageMaps++;
      return new PfnResult(PfnStatus.OK, FrameTable.ZERO_PFN, false, seq);
    }
    boolean writable = HostMm.isWritable(pte) && !slot.readOnly();
    return new PfnResult(PfnStatus.OK, HostMm.pfnOf(pte), writable, seq);
  }

  /** The host's write-fault path (handle_mm_fault with FAULT_FLAG_WRITE, do_wp_page). */
  private int handleWriteFault(int vmId, HostVm v, long hva) {
    int pte = v.mm.get(hva);
    if (pte == HostMm.NONE) {
      int pfn = frames.alloc(Fingerprint.ZERO);
      refs.install(v.mm, hva, pfn, true);
      freshAllocations++;
      return pfn;
    }
    int pfn = HostMm.pfnOf(pte);
    if (HostMm.isWritable(pte)) {
      return pfn;
    }
    if (frames.mustCopyOnWrite(pfn)) {
      return copyOnWrite(vmId, v, hva, pfn);
    }
    v.mm.set(hva, HostMm.encode(pfn, true)); // exclusive: reuse in place, no invalidation
    return pfn;
  }

  /**
   * {@code do_wp_page}'s copy: a new private frame with {@code oldPfn}'s content, mapped writable
   * at {@code hva} in place of {@code oldPfn}, with a notifier event and a COW-break feed event.
   *
   * @return the copy's pfn
   */
  int copyOnWrite(int vmId, HostVm v, long hva, int oldPfn) {
    cowBreaks++;
    boolean ksm = frames.isKsm(oldPfn);
    if (ksm) {
      cowKsm++;
    } else if (frames.isZero(oldPfn)) {
      zeroPageCow++;
    }
    int copy = frames.alloc(frames.fingerprint(oldPfn));
    refs.remove(v.mm, hva);
    refs.install(v.mm, hva, copy, true);
    notifiers.invalidateHva(vmId, v, hva, hva + 1);
    notifiers.cowBreak(vmId, v, hva, oldPfn, copy, ksm);
    return copy;
  }

  /** Boot-image load: see {@link PageFrames#populate}. */
  void populate(int vm, HostVm v, long gfn, long fingerprint) {
    long hva = v.hvaOrThrow(vm, gfn);
    boolean protRead = v.mm.isProtRead(hva);
    int pte = v.mm.get(hva);
    int pfn;
    if (pte == HostMm.NONE) {
      pfn = frames.alloc(fingerprint);
      refs.install(v.mm, hva, pfn, !protRead);
      return;
    }
    pfn = HostMm.pfnOf(pte);
    if (frames.mustCopyOnWrite(pfn)) {
      pfn = copyOnWrite(vm, v, hva, pfn);
      if (protRead) {
        v.mm.set(hva, HostMm.encode(pfn, false));
      }
    } else if (!protRead) {
      v.mm.set(hva, HostMm.encode(pfn, true));
    }
    frames.setFingerprint(pfn, fingerprint);
  }

  /** Fork-style sharing: see {@link PageFrames#cowShare}. */
  void cowShare(int srcVm, HostVm s, long srcGfn, int dstVm, HostVm d, long dstGfn) {
    long srcHva = s.hvaOrThrow(srcVm, srcGfn);
    long dstHva = d.hvaOrThrow(dstVm, dstGfn);
    if (s == d && srcHva == dstHva) {
      throw new IllegalArgumentException("dstGfn: must not name the same host page as srcGfn");
    }
    int pte = s.mm.get(srcHva);
    if (pte == HostMm.NONE) {
      refs.install(s.mm, srcHva, frames.alloc(Fingerprint.ZERO), false);
      pte = s.mm.get(srcHva);
    } else if (HostMm.isWritable(pte)) {
      s.mm.set(srcHva, HostMm.encode(HostMm.pfnOf(pte), false));
      notifiers.invalidateHva(srcVm, s, srcHva, srcHva + 1);
    }
    int pfn = HostMm.pfnOf(pte);
    if (d.mm.get(dstHva) != HostMm.NONE) {
      refs.installOver(d.mm, dstHva, pfn);
      notifiers.invalidateHva(dstVm, d, dstHva, dstHva + 1);
    } else {
      refs.install(d.mm, dstHva, pfn, false);
    }
  }
}
