package org.mmumesh.hostmmu;

import org.mmumesh.common.GuestPte;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

/**
 * The {@link HostMmu}'s event feed: every installed host HPTE (MAP, {@code "map ro"}/{@code "map
 * rw"} with its pfn) and every invalidation (a guest tlbie's {@code pte_flush}/{@code pte_vflush},
 * a vCPU's flush-all, an unmap that removed something, a notifier range flush, a Q8 full-flush
 * request, with the shadow PTEs removed) as a {@link MeshEvent} on the node's {@link MeshEventBus},
 * naming one VM and no host (the bus fills it from the node's directory). Each method first asks
 * the bus whether anyone watches, so nothing is built while nobody does.
 */
public final class HostMmuEvents {
  private final MeshEventBus bus;
  private final int vm;

  /**
   * @param vm the VM the events name ({@link MeshEvent#NONE}: unknown)
   */
  public HostMmuEvents(MeshEventBus bus, int vm) {
    this.bus = bus;
    this.vm = vm;
  }

  /** {@code kvmppc_mmu_map_page} installed an HPTE for {@code pte} on host frame {@code pfn}. */
  public void mapped(int vcpu, GuestPte pte, int pfn, boolean readOnly) {
    if (bus.wants(MeshEvent.Kind.MAP, vm)) {
      bus.publish(
          new MeshEvent(
              MeshEvent.Kind.MAP,
              MeshEvent.NONE,
              vm,
              vcpu,
              pte.eaddr(),
              pte.gfn(),
              pfn,
              readOnly ? "map ro" : "map rw"));
    }
  }

  /**
   * The {@code pte_vflush} before a data fault's map (spec 6.2); called only when it removed
   * something (most faults' unmaps find nothing).
   */
  public void unmapped(int vcpu, GuestPte pte, int removed) {
    if (wanted()) {
      publish(vcpu, pte.eaddr(), pte.gfn(), "unmap_page", removed);
    }
  }

  /** A guest tlbie's {@code pte_flush} / {@code pte_vflush} on every vCPU. */
  public void guestTlbie(HostFlush flush, int removed) {
    if (wanted()) {
      String detail =
          flush instanceof HostFlush.PteVflush f
              ? String.format("pte_vflush vpage 0x%x mask 0x%x", f.vpage(), f.mask())
              : flush instanceof HostFlush.PteFlush f
                  ? String.format("pte_flush ea 0x%x mask 0x%x", f.ea(), f.mask())
                  : String.valueOf(flush);
      long ea = flush instanceof HostFlush.PteFlush f ? f.ea() : MeshEvent.NONE;
      publish(MeshEvent.NONE, ea, MeshEvent.NONE, detail, removed);
    }
  }

  /** {@code kvmppc_mmu_pte_flush(vcpu, 0, 0)}: everything of one vCPU. */
  public void vcpuFlushed(int vcpu, int removed) {
    if (wanted()) {
      publish(
          vcpu, MeshEvent.NONE, MeshEvent.NONE, "flush_all (kvmppc_mmu_pte_flush 0, 0)", removed);
    }
  }

  /** An MMU notifier's {@code pte_pflush} of guest frames {@code [gfnStart, gfnEnd)}. */
  public void notifierRange(long gfnStart, long gfnEnd, int removed) {
    if (wanted()) {
      publish(
          MeshEvent.NONE,
          MeshEvent.NONE,
          gfnStart,
          String.format("notifier range 0x%x-0x%x", gfnStart, gfnEnd),
          removed);
    }
  }

  /** Q8: an MMU notifier's {@code kvm_flush_remote_tlbs}, deferred to each vCPU's next entry. */
  public void notifierFullFlushRequested(long gfnStart, long gfnEnd) {
    if (wanted()) {
      publish(
          MeshEvent.NONE,
          MeshEvent.NONE,
          gfnStart,
          String.format("notifier full flush requested (range 0x%x-0x%x)", gfnStart, gfnEnd),
          0);
    }
  }

  private boolean wanted() {
    return bus.wants(MeshEvent.Kind.INVALIDATION, vm);
  }

  private void publish(int vcpu, long ea, long gfn, String detail, int removed) {
    bus.publish(
        new MeshEvent(
            MeshEvent.Kind.INVALIDATION,
            MeshEvent.NONE,
            vm,
            vcpu,
            ea,
            gfn,
            MeshEvent.NONE,
            detail + " removed " + removed));
  }
}
