package org.mmumesh.pageframe;

import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

/**
 * Publishes the core's COW breaks and KSM merges ({@link FrameEventListener}) as {@code MeshEvent}s
 * (COW_BREAK, MERGE) on this node's {@link MeshEventBus}, with the host's id ({@code NONE} for a
 * {@link PageFrame} created without one) and, for a COW break in a {@code gfn_to_pfn_prot}, the
 * requesting vCPU ({@link #vcpu}). An event is built only while somebody watches ({@link
 * MeshEventBus#wants}: one volatile read and a mask test otherwise).
 */
public final class FrameEventFeed implements FrameEventListener {
  private final MeshEventBus events;
  private final int hostId;
  private int vcpu = MeshEvent.NONE;

  public FrameEventFeed(MeshEventBus events, int hostId) {
    this.events = events;
    this.hostId = hostId;
  }

  /** The vCPU whose request runs now ({@link MeshEvent#NONE} between requests). */
  public void vcpu(int vcpu) {
    this.vcpu = vcpu;
  }

  @Override
  public void cowBreak(int vm, long gfn, int oldPfn, int newPfn, boolean ksm) {
    if (events.wants(MeshEvent.Kind.COW_BREAK, vm)) {
      events.publish(
          new MeshEvent(
              MeshEvent.Kind.COW_BREAK,
              hostId,
              vm,
              vcpu,
              MeshEvent.NONE,
              gfn,
              newPfn,
              (ksm ? "cow ksm pfn " : "cow pfn ") + oldPfn + " -> " + newPfn));
    }
  }

  @Override
  public void merged(int vm, long gfn, int oldPfn, int kpfn) {
    if (events.wants(MeshEvent.Kind.MERGE, vm)) {
      events.publish(
          new MeshEvent(
              MeshEvent.Kind.MERGE,
              hostId,
              vm,
              MeshEvent.NONE,
              MeshEvent.NONE,
              gfn,
              kpfn,
              "merge pfn " + oldPfn + " -> ksm pfn " + kpfn));
    }
  }
}
