package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random host operations for the checkpoint tests: every public mutator of {@link PageFrames}
 * (faults, stores, population, zaps, mprotect, COW sharing, pins, the KSM page operations, memslot
 * add/remove/move, leases), each chosen and parameterised from its own seed so that two cores given
 * the same seeds get the same calls. Every return value, exception and listener call is appended to
 * the output list, which two cores in the same state must produce alike.
 */
final class PageFramesOps {
  private PageFramesOps() {}

  /** A core with two VMs and a memslot each, listeners recording into {@code out}. */
  static PageFrames newHost(List<String> out) {
    PageFrames pf = new PageFrames(2);
    pf.createVm(0);
    pf.createVm(1);
    pf.addSlot(0, 0, 0, 48, 0, false);
    pf.addSlot(1, 0, 0, 48, 0, false);
    listen(pf, out);
    return pf;
  }

  /** Registers listeners that record every notifier, slot-update and frame event into out. */
  static void listen(PageFrames pf, List<String> out) {
    pf.addNotifierListener((vm, g0, g1) -> out.add("inv " + vm + " " + g0 + "-" + g1));
    pf.addSlotUpdateListener((vm, t) -> out.add("slotdone " + vm + " " + t));
    pf.setFrameEventListener(
        new FrameEventListener() {
          @Override
          public void cowBreak(int vm, long gfn, int oldPfn, int newPfn, boolean ksm) {
            out.add("cow " + vm + " " + gfn + " " + oldPfn + ">" + newPfn + " " + ksm);
          }

          @Override
          public void merged(int vm, long gfn, int oldPfn, int kpfn) {
            out.add("merged " + vm + " " + gfn + " " + oldPfn + ">" + kpfn);
          }
        });
  }

  /** Applies the operation chosen by {@code seed}, recording what it returned or threw. */
  static void apply(PageFrames pf, long seed, List<String> out) {
    Random r = new Random(seed);
    int vm = r.nextInt(pf.hasVm(2) ? 3 : 2);
    long gfn = r.nextInt(56);
    int op = r.nextInt(22);
    try {
      out.add(op + ": " + call(pf, r, op, vm, gfn));
    } catch (IllegalArgumentException | IllegalStateException e) {
      out.add(op + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
  }

  private static Object call(PageFrames pf, Random r, int op, int vm, long gfn) {
    switch (op) {
      case 0, 1:
        return pf.gfnToPfnProt(vm, gfn, false);
      case 2, 3, 4:
        {
          PfnResult res = pf.gfnToPfnProt(vm, gfn, true);
          if (res.ok() && pf.slotOf(vm, gfn) != null && !pf.slotOf(vm, gfn).readOnly()) {
            pf.store(vm, gfn, r.nextInt(512) * 8, r.nextLong());
          }
          return res;
        }
      case 5:
        pf.populate(vm, gfn, r.nextInt(4));
        return pf.ptePfn(vm, gfn);
      case 6:
        pf.zapPages(vm, gfn, 1 + r.nextInt(4));
        return pf.framesAllocated();
      case 7:
        if (r.nextInt(4) == 0) {
          pf.protectReadOnly(vm, gfn, 1);
        }
        return pf.notifierSeq(vm);
      case 8:
        pf.cowShare(vm, gfn, r.nextInt(2), r.nextInt(48));
        return pf.framesSaved();
      case 9, 10:
        {
          int p = pf.ptePfn(vm, gfn);
          if (p > 0 && pf.writeProtectPage(vm, gfn, p) && !pf.isKsmPage(p)) {
            pf.makeKsmPage(vm, gfn, p);
          }
          return p;
        }
      case 11:
        {
          int p = pf.ptePfn(vm, gfn);
          int k = pf.ptePfn(r.nextInt(2), r.nextInt(48));
          if (p > 0 && k > 0 && pf.isKsmPage(k) && pf.writeProtectPage(vm, gfn, p)) {
            return pf.replacePage(vm, gfn, p, k);
          }
          return "no merge";
        }
      case 12:
        return pf.breakKsm(vm, gfn);
      case 13:
        return pf.load(vm, gfn, r.nextInt(512) * 8);
      case 14:
        {
          int p = pf.ptePfn(vm, gfn);
          if (p > 0) {
            pf.pinFrame(p);
          }
          return p;
        }
      case 15:
        {
          int p = pf.ptePfn(vm, gfn);
          pf.unpinFrame(p < 0 ? 1 + r.nextInt(8) : p);
          return pf.framesAllocated();
        }
      case 16:
        return pf.leaseAcquire(vm);
      case 17:
        pf.leaseRelease(vm, r.nextInt((int) pf.slotGeneration(vm) + 1));
        return pf.leasesHeld(vm);
      case 18:
        return pf.addSlot(
            vm,
            1 + r.nextInt(3),
            48 + r.nextInt(16),
            1 + r.nextInt(8),
            48 + r.nextInt(8),
            r.nextBoolean());
      case 19:
        return pf.beginRemoveSlot(vm, 1 + r.nextInt(3));
      case 20:
        return pf.beginMoveSlot(vm, 1 + r.nextInt(3), 64 + r.nextInt(16));
      default:
        if (!pf.hasVm(2)) {
          pf.createVm(2);
          pf.addSlot(2, 0, 0, 56, 0, false);
        }
        return pf.isComplete(1 + r.nextInt(4));
    }
  }

  /** Everything the core answers about itself, page by page and frame by frame. */
  static List<String> dump(PageFrames pf) {
    List<String> d = new ArrayList<>();
    d.add(
        "counters "
            + List.of(
                pf.framesSaved(),
                pf.framesSavedExcludingZeroPage(),
                pf.framesSavedByKsm(),
                pf.mappedPages(),
                pf.framesInUse(),
                pf.framesAllocated(),
                pf.frameCapacity(),
                pf.zeroPageMappings(),
                pf.cowBreaks(),
                pf.cowKsm(),
                pf.zeroPageCow(),
                pf.zeroPageMaps(),
                pf.freshAllocations(),
                pf.notifierEvents(),
                pf.pendingInvalidations()));
    for (int vm = 0; vm < 3; vm++) {
      if (!pf.hasVm(vm)) {
        continue;
      }
      d.add(
          "vm "
              + vm
              + " seq "
              + pf.notifierSeq(vm)
              + " gen "
              + pf.slotGeneration(vm)
              + " leases "
              + pf.leasesHeld(vm)
              + " slots "
              + pf.slots(vm));
      for (long h = 0; h < 80; h++) {
        d.add(
            "pte "
                + vm
                + " "
                + h
                + " "
                + pf.ptePfn(vm, h)
                + " "
                + pf.pteWritable(vm, h)
                + " "
                + pf.invalidationPending(vm, h));
      }
    }
    for (int pfn = 0; pfn < 200; pfn++) {
      if (pf.isLiveFrame(pfn)) {
        d.add(
            "frame "
                + pfn
                + " fp "
                + pf.frameFingerprint(pfn)
                + " maps "
                + pf.frameMapCount(pfn)
                + " pins "
                + pf.pinCount(pfn)
                + " ksm "
                + pf.isKsmPage(pfn)
                + " gen "
                + pf.frameGeneration(pfn));
      }
    }
    return d;
  }
}
