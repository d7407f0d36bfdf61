package org.mmumesh.pageframe;

/**
 * Told when a memslot update completes: every read lease (SRCU read section) taken on a generation
 * older than the update has been released, the {@code synchronize_srcu} step of spec 8.8 TV61.
 */
@FunctionalInterface
public interface SlotUpdateListener {
  /**
   * The update identified by {@code ticket} on VM {@code vm} is complete.
   *
   * @param vm the VM id
   * @param ticket the ticket returned when the update was published
   */
  void slotUpdateCompleted(int vm, long ticket);
}
