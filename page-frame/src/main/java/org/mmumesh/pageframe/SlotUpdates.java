package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.mmumesh.common.Checks;

/**
 * Memslot updates ({@code KVM_SET_USER_MEMORY_REGION}: create, delete, move) in two phases, as
 * {@code install_new_memslots} does (spec 8.8 TV61): the new slot array is published at once, and
 * the update's ticket completes when every read lease ({@code srcu_read_lock}) taken on an older
 * generation is released ({@code synchronize_srcu}); completion is told to every {@link
 * SlotUpdateListener}. Removing or moving a slot invalidates its old gfn range through the MMU
 * notifiers. See {@link PageFrames} for the public form of each method.
 */
final class SlotUpdates {
  private final HostNotifiers notifiers;
  private final List<SlotUpdateListener> listeners = new ArrayList<>();
  private final Set<Long> pendingTickets = new HashSet<>();
  private long nextTicket = 1;

  SlotUpdates(HostNotifiers notifiers) {
    this.notifiers = notifiers;
  }

  void addListener(SlotUpdateListener listener) {
    listeners.add(listener);
  }

  /** The next ticket to hand out. */
  long nextTicket() {
    return nextTicket;
  }

  /**
   * Restores the ticket counter and the tickets still pending (the union of every VM's memslot
   * pending lists, which the checkpoint holds).
   */
  void restore(long next, java.util.Collection<Long> pending) {
    nextTicket = next;
    pendingTickets.clear();
    pendingTickets.addAll(pending);
  }

  long addSlot(
      int vm, HostVm v, int slotId, long baseGfn, long npages, long hvaPage, boolean readOnly) {
    checkSlotArgs(slotId, baseGfn, npages, hvaPage);
    if (v.slots.byId(slotId) != null) {
      throw new IllegalArgumentException("slotId: " + slotId + " already exists in vm " + vm);
    }
    rejectOverlap(v, vm, slotId, baseGfn, npages);
    v.slots.publish(-1, new MemSlot(slotId, baseGfn, npages, hvaPage, readOnly));
    return newTicket(vm, v);
  }

  long beginRemoveSlot(int vm, HostVm v, int slotId) {
    MemSlot old = existing(vm, v, slotId);
    v.slots.publish(slotId, null);
    notifiers.invalidateGfns(vm, v, old.baseGfn(), old.endGfn());
    return newTicket(vm, v);
  }

  long beginMoveSlot(int vm, HostVm v, int slotId, long newBaseGfn) {
    MemSlot old = existing(vm, v, slotId);
    checkSlotArgs(slotId, newBaseGfn, old.npages(), old.hvaPage());
    rejectOverlap(v, vm, slotId, newBaseGfn, old.npages());
    v.slots.publish(
        slotId, new MemSlot(slotId, newBaseGfn, old.npages(), old.hvaPage(), old.readOnly()));
    notifiers.invalidateGfns(vm, v, old.baseGfn(), old.endGfn());
    return newTicket(vm, v);
  }

  boolean isComplete(long ticket) {
    Checks.inRange("ticket", ticket, 1, nextTicket - 1);
    return !pendingTickets.contains(ticket);
  }

  void leaseRelease(int vm, HostVm v, long lease) {
    if (!v.slots.isHeld(lease)) {
      throw new IllegalArgumentException("lease: " + lease + " is not held on vm " + vm);
    }
    v.slots.leaseRelease(lease);
    completeTickets(vm, v);
  }

  private static MemSlot existing(int vm, HostVm v, int slotId) {
    Checks.inRange("slotId", slotId, 0, PageFrames.MAX_SLOT_ID);
    MemSlot old = v.slots.byId(slotId);
    if (old == null) {
      throw new IllegalArgumentException("slotId: " + slotId + " does not exist in vm " + vm);
    }
    return old;
  }

  private static void checkSlotArgs(int slotId, long baseGfn, long npages, long hvaPage) {
    Checks.inRange("slotId", slotId, 0, PageFrames.MAX_SLOT_ID);
    Checks.inRange("baseGfn", baseGfn, 0, PageFrames.MAX_GFN);
    Checks.inRange("npages", npages, 1, PageFrames.MAX_GFN + 1 - baseGfn);
    Checks.inRange("hvaPage", hvaPage, 0, PageFrames.MAX_HVA_PAGE);
    Checks.inRange("npages", npages, 1, PageFrames.MAX_HVA_PAGE + 1 - hvaPage);
  }

  private static void rejectOverlap(HostVm v, int vm, int slotId, long baseGfn, long npages) {
    MemSlot clash = v.slots.overlapping(baseGfn, npages, slotId);
    if (clash != null) {
      throw new IllegalArgumentException(
          String.format(
              "memslot %d (gfn 0x%x-0x%x) overlaps memslot %d (gfn 0x%x-0x%x) in vm %d",
              slotId,
              baseGfn,
              baseGfn + npages - 1,
              clash.id(),
              clash.baseGfn(),
              clash.endGfn() - 1,
              vm));
    }
  }

  private long newTicket(int vm, HostVm v) {
    long ticket = nextTicket++;
    v.slots.addPending(ticket, v.slots.generation());
    pendingTickets.add(ticket);
    completeTickets(vm, v);
    return ticket;
  }

  private void completeTickets(int vm, HostVm v) {
    for (long t : v.slots.takeCompleted()) {
      pendingTickets.remove(t);
      for (SlotUpdateListener l : listeners) {
        l.slotUpdateCompleted(vm, t);
      }
    }
  }
}
