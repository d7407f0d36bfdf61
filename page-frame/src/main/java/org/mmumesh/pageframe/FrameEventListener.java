package org.mmumesh.pageframe;

/**
 * Told of the page-sharing changes a watcher of the event feed wants to see: a copy-on-write break
 * ({@code do_wp_page} copying a shared frame, spec 5.3 and 7.6) and a KSM merge ({@code
 * replace_page}, spec 7.4). Called synchronously by {@link PageFrames} after the change, once per
 * memslot alias of the host page (the same guest-frame computation as {@link MmuNotifierListener}).
 * The {@link PageFrame} actor turns these into {@code MeshEvent}s only while somebody watches.
 */
public interface FrameEventListener {
  /**
   * A write to a shared frame got a private copy.
   *
   * @param vm the VM
   * @param gfn the guest frame whose host PTE now maps the copy
   * @param oldPfn the shared frame
   * @param newPfn the private copy
   * @param ksm whether the shared frame was a KSM page
   */
  void cowBreak(int vm, long gfn, int oldPfn, int newPfn, boolean ksm);

  /**
   * A guest page now maps a KSM page (its own frame dropped).
   *
   * @param vm the VM
   * @param gfn the guest frame merged
   * @param oldPfn the frame it had
   * @param kpfn the KSM page it maps now
   */
  void merged(int vm, long gfn, int oldPfn, int kpfn);
}
