package org.mmumesh.pageframe;

/**
 * Receives MMU-notifier invalidations (spec 5.7): every host PTE change on a VM's guest RAM (COW
 * break, KSM write-protect, KSM replace, zero page to private, unmap, slot removal or move) is
 * reported as the guest-frame range it affects, computed through the VM's memslots. At the commit
 * PR KVM ignores the range and flushes every shadow PTE of every vCPU (quirk Q8, {@code full});
 * later kernels flush only the range. Host MMUs choose; this interface only reports.
 *
 * <p>Listeners are called synchronously, after the VM's notifier sequence number has been bumped,
 * so a mapper that read {@link PageFrames#notifierSeq(int)} before its gfn-to-pfn sees the change
 * (the {@code mmu_notifier_retry} guard).
 */
@FunctionalInterface
public interface MmuNotifierListener {
  /**
   * The host mappings behind guest frames {@code [gfnStart, gfnEnd)} of VM {@code vm} changed.
   *
   * @param vm the VM id
   * @param gfnStart first affected guest frame number
   * @param gfnEnd one past the last affected guest frame number
   */
  void invalidateRange(int vm, long gfnStart, long gfnEnd);
}
