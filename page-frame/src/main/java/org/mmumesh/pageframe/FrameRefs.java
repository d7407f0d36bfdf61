package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.List;

/**
 * Host PTEs and the frames they reference: installing and removing a PTE keeps the frame's map
 * count ({@code page_mapcount}) and the savings accounting of spec 10 in step, and frees a frame
 * when its last mapping and pin go; {@link #invariantViolations} recounts it all from the address
 * spaces.
 *
 * <p>The accounting: {@code mappedPtes} present host PTEs, {@code framesInUse} distinct frames they
 * map, {@code zeroPtes} PTEs mapping the zero page, {@code ksmPtes} PTEs mapping KSM frames and
 * {@code ksmFramesInUse} KSM frames mapped at least once (see {@link PageFrames}' class comment for
 * the savings they give).
 */
final class FrameRefs {
  private final FrameTable frames;

  long mappedPtes;
  long framesInUse;
  long zeroPtes;
  long ksmPtes;
  long ksmFramesInUse;

  FrameRefs(FrameTable frames) {
    this.frames = frames;
  }

  /** Points the (absent) PTE of {@code hva} at {@code pfn}. */
  void install(HostMm mm, long hva, int pfn, boolean writable) {
    mm.set(hva, HostMm.encode(pfn, writable));
    int maps = frames.incMap(pfn);
    mappedPtes++;
    if (maps == 1) {
      framesInUse++;
    }
    if (pfn == FrameTable.ZERO_PFN) {
      zeroPtes++;
    } else if (frames.isKsm(pfn)) {
      ksmPtes++;
      if (maps == 1) {
        ksmFramesInUse++;
      }
    }
  }

  /** Points a present PTE at {@code pfn} read-only, dropping the old frame. */
  void installOver(HostMm mm, long hva, int pfn) {
    remove(mm, hva);
    install(mm, hva, pfn, false);
  }

  /** Clears the present PTE of {@code hva}; its frame is freed if nothing maps or pins it now. */
  void remove(HostMm mm, long hva) {
    int pfn = HostMm.pfnOf(mm.get(hva));
    mm.set(hva, HostMm.NONE);
    int maps = frames.decMap(pfn);
    mappedPtes--;
    if (maps == 0) {
      framesInUse--;
    }
    if (pfn == FrameTable.ZERO_PFN) {
      zeroPtes--;
    } else {
      if (frames.isKsm(pfn)) {
        ksmPtes--;
        if (maps == 0) {
          ksmFramesInUse--;
        }
      }
      if (maps == 0 && frames.pinCount(pfn) == 0) {
        frames.free(pfn);
      }
    }
  }

  /** Flags {@code pfn} KSM in place; its existing mappings move to the KSM accounting. */
  void markKsm(int pfn) {
    if (!frames.isKsm(pfn)) {
      frames.setKsm(pfn);
      int maps = frames.mapCount(pfn);
      ksmPtes += maps;
      if (maps > 0) {
        ksmFramesInUse++;
      }
    }
  }

  /** Drops a pin on {@code pfn}; frees it if nothing maps or pins it any more. */
  void unpin(int pfn) {
    if (frames.unpin(pfn) == 0 && frames.mapCount(pfn) == 0 && pfn != FrameTable.ZERO_PFN) {
      frames.free(pfn);
    }
  }

  /**
   * Recounts everything from the address spaces in {@code vms} (null entries: no such VM) and lists
   * what is wrong; see {@link PageFrames#invariantViolations()}.
   */
  List<String> invariantViolations(HostVm[] vms) {
    List<String> out = new ArrayList<>();
    int top = frames.top();
    int[] count = new int[top];
    long[] recount = new long[3]; // ptes, zero, ksm
    forEachPresent(
        vms,
        (vmId, h, pte) -> {
          int pfn = HostMm.pfnOf(pte);
          if (pfn >= top || frames.isFree(pfn)) {
            out.add("vm " + vmId + " hva " + h + " maps free/unknown pfn " + pfn);
            return;
          }
          count[pfn]++;
          recount[0]++;
          if (pfn == FrameTable.ZERO_PFN) {
            recount[1]++;
          } else if (frames.isKsm(pfn)) {
            recount[2]++;
          }
        });
    long inUse = 0;
    long ksmInUse = 0;
    for (int pfn = 0; pfn < top; pfn++) {
      if (frames.isFree(pfn)) {
        if (frames.mapCount(pfn) != 0) {
          out.add("free pfn " + pfn + " has map count " + frames.mapCount(pfn));
        }
        continue;
      }
      if (count[pfn] != frames.mapCount(pfn)) {
        out.add("pfn " + pfn + " map count " + frames.mapCount(pfn) + " but " + count[pfn]);
      }
      if (count[pfn] > 0) {
        inUse++;
        if (frames.isKsm(pfn)) {
          ksmInUse++;
        }
      } else if (pfn != FrameTable.ZERO_PFN && frames.pinCount(pfn) == 0) {
        out.add("pfn " + pfn + " is allocated but neither mapped nor pinned (leak)");
      }
    }
    forEachPresent(
        vms,
        (vmId, h, pte) -> {
          int pfn = HostMm.pfnOf(pte);
          if (HostMm.isWritable(pte)
              && pfn < top
              && !frames.isFree(pfn)
              && frames.mustCopyOnWrite(pfn)) {
            out.add("vm " + vmId + " hva " + h + " maps shared pfn " + pfn + " writable");
          }
        });
    accountingViolations(out, recount[0], inUse, recount[1], recount[2], ksmInUse);
    return out;
  }

  /**
   * Adds to {@code out} a line for each of the two counter groups where the kept counters differ
   * from the recount given (the full check's and {@link FrameAudit}'s common wording).
   */
  void accountingViolations(
      List<String> out, long ptes, long inUse, long zero, long ksm, long ksmInUse) {
    if (ptes != mappedPtes || inUse != framesInUse || zero != zeroPtes) {
      out.add(
          String.format(
              "accounting: mappedPtes %d/%d framesInUse %d/%d zeroPtes %d/%d (kept/recount)",
              mappedPtes, ptes, framesInUse, inUse, zeroPtes, zero));
    }
    if (ksm != ksmPtes || ksmInUse != ksmFramesInUse) {
      out.add(
          String.format(
              "ksm accounting: ksmPtes %d/%d ksmFramesInUse %d/%d (kept/recount)",
              ksmPtes, ksm, ksmFramesInUse, ksmInUse));
    }
  }

  private interface PteVisitor {
    void visit(int vmId, long hva, int pte);
  }

  private static void forEachPresent(HostVm[] vms, PteVisitor visitor) {
    for (int vmId = 0; vmId < vms.length; vmId++) {
      HostVm v = vms[vmId];
      if (v == null) {
        continue;
      }
      for (long h = v.mm.nextPresent(0, Long.MAX_VALUE, -1);
          h >= 0;
          h = v.mm.nextPresent(h + 1, Long.MAX_VALUE, -1)) {
        visitor.visit(vmId, h, v.mm.get(h));
      }
    }
  }
}
