package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * What {@link PageFrames} tells the world when a host PTE changes: MMU-notifier invalidations (spec
 * 5.7; {@code mmu_notifier_invalidate_range}), the invalidations still awaiting acknowledgement in
 * the KSM merge handshake (architecture section 4), and the event feed's COW breaks and KSM merges
 * ({@link FrameEventListener}).
 *
 * <p>Every invalidation bumps the VM's {@code notifierSeq} and {@link #notifierEvents()}; a host
 * page range is reported to the listeners as the gfn ranges the VM's memslots map it to.
 */
final class HostNotifiers {
  private final List<MmuNotifierListener> listeners = new ArrayList<>();
  private FrameEventListener frameEvents;
  private long notifierEvents;

  // Invalidation tracking for the KSM merge handshake (null: off, as in the sequential engine).
  private IntPredicate trackedVms;
  private final List<long[]> pending = new ArrayList<>();

  void addListener(MmuNotifierListener listener) {
    listeners.add(listener);
  }

  void setFrameEventListener(FrameEventListener listener) {
    frameEvents = listener;
  }

  /** See {@link PageFrames#trackInvalidations}. */
  void track(IntPredicate needsAck) {
    trackedVms = needsAck;
    pending.clear();
  }

  /** See {@link PageFrames#invalidationPending}. */
  boolean pending(int vm, long hvaPage) {
    for (int i = pending.size() - 1; i >= 0; i--) {
      long[] e = pending.get(i);
      if (e[0] == vm && e[1] <= hvaPage && hvaPage < e[2]) {
        return true;
      }
    }
    return false;
  }

  void completeAll() {
    pending.clear();
  }

  int pendingCount() {
    return pending.size();
  }

  long notifierEvents() {
    return notifierEvents;
  }

  /** The pending invalidations as (vm, start, end) triples, oldest first (a copy). */
  List<long[]> pendingRanges() {
    List<long[]> out = new ArrayList<>(pending.size());
    for (long[] e : pending) {
      out.add(e.clone());
    }
    return out;
  }

  /** Restores the event count and the pending invalidations (checkpoint); listeners stay. */
  void restore(long events, List<long[]> pendingRanges) {
    notifierEvents = events;
    pending.clear();
    pending.addAll(pendingRanges);
  }

  /** Host pages {@code [hvaStart, hvaEnd)} of VM {@code vmId} changed (spec 5.7). */
  void invalidateHva(int vmId, HostVm v, long hvaStart, long hvaEnd) {
    v.notifierSeq++;
    notifierEvents++;
    if (trackedVms != null && trackedVms.test(vmId)) {
      pending.add(new long[] {vmId, hvaStart, hvaEnd});
    }
    if (listeners.isEmpty()) {
      return;
    }
    for (MemSlot s : v.slots.slots()) {
      long lo = Math.max(hvaStart, s.hvaPage());
      long hi = Math.min(hvaEnd, s.hvaPage() + s.npages());
      if (lo < hi) {
        long g0 = s.baseGfn() + (lo - s.hvaPage());
        long g1 = s.baseGfn() + (hi - s.hvaPage());
        for (MmuNotifierListener l : listeners) {
          l.invalidateRange(vmId, g0, g1);
        }
      }
    }
  }

  /**
   * Guest frames {@code [gfnStart, gfnEnd)} of VM {@code vmId} lost their memslot (not tracked).
   */
  void invalidateGfns(int vmId, HostVm v, long gfnStart, long gfnEnd) {
    v.notifierSeq++;
    notifierEvents++;
    for (MmuNotifierListener l : listeners) {
      l.invalidateRange(vmId, gfnStart, gfnEnd);
    }
  }

  /** The event feed: a write fault at {@code hvaPage} copied {@code oldPfn} to {@code copy}. */
  void cowBreak(int vmId, HostVm v, long hvaPage, int oldPfn, int copy, boolean ksm) {
    if (frameEvents != null) {
      v.forEachGfnOf(hvaPage, gfn -> frameEvents.cowBreak(vmId, gfn, oldPfn, copy, ksm));
    }
  }

  /** The event feed: KSM replaced {@code oldPfn} at {@code hvaPage} by KSM page {@code kpfn}. */
  void merged(int vmId, HostVm v, long hvaPage, int oldPfn, int kpfn) {
    if (frameEvents != null) {
      v.forEachGfnOf(hvaPage, gfn -> frameEvents.merged(vmId, gfn, oldPfn, kpfn));
    }
  }
}
