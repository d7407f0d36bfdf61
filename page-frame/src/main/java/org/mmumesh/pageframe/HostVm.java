package org.mmumesh.pageframe;

import java.util.function.LongConsumer;
import org.mmumesh.common.Checks;

/**
 * One VM as {@link PageFrames} sees it: its host address space ({@link HostMm}), its memslots
 * ({@link Memslots}) and its MMU-notifier sequence number ({@code mmu_notifier_seq}, spec 5.7).
 */
final class HostVm {
  final HostMm mm = new HostMm();
  final Memslots slots = new Memslots();
  long notifierSeq;

  /**
   * Gives {@code gfnSink} every guest frame that host page {@code hvaPage} backs (one per memslot
   * covering it; slots may alias host memory), in slot order.
   */
  void forEachGfnOf(long hvaPage, LongConsumer gfnSink) {
    for (MemSlot s : slots.slots()) {
      if (hvaPage >= s.hvaPage() && hvaPage < s.hvaPage() + s.npages()) {
        gfnSink.accept(s.baseGfn() + (hvaPage - s.hvaPage()));
      }
    }
  }

  /**
   * The memslot holding {@code gfn}.
   *
   * @throws IllegalArgumentException naming the gfn and VM {@code vmId} if no memslot holds it
   */
  MemSlot slotOrThrow(int vmId, long gfn) {
    Checks.inRange("gfn", gfn, 0, PageFrames.MAX_GFN);
    MemSlot slot = slots.lookup(gfn);
    if (slot == null) {
      throw new IllegalArgumentException(
          String.format("gfn: 0x%x is not in any memslot of vm %d", gfn, vmId));
    }
    return slot;
  }

  /** The host page behind {@code gfn}; see {@link #slotOrThrow}. */
  long hvaOrThrow(int vmId, long gfn) {
    return slotOrThrow(vmId, gfn).hvaOf(gfn);
  }
}
