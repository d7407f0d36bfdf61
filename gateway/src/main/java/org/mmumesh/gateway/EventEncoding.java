package org.mmumesh.gateway;

import java.util.concurrent.atomic.AtomicReferenceArray;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.mesh.EventBacklog;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * The proto form of events, built once per event and shared by every watcher that sends it: the
 * feed hands every watcher of a node the same {@link MeshEvent} object, so a small direct-mapped
 * cache keyed by the event's identity finds the response already built (its fields set and its
 * detail already UTF-8 encoded); each watcher only adds its own {@code sequence} and {@code
 * dropped_before}. A collision or a miss just builds again: the cache affects cost, never content.
 */
final class EventEncoding {
  private static final int SLOTS = 1024; // a power of two

  private record Slot(MeshEvent event, WatchEventsResponse response) {}

  private final AtomicReferenceArray<Slot> slots = new AtomicReferenceArray<>(SLOTS);

  /**
   * The response for {@code entry}: the shared encoding of its event with the watcher's numbers.
   */
  WatchEventsResponse response(EventBacklog.Entry entry) {
    WatchEventsResponse shared = shared(entry.event());
    return shared.toBuilder()
        .setDroppedBefore(entry.droppedBefore())
        .setSequence(entry.sequence())
        .build();
  }

  /** The event's fields, without the per-watcher numbers; built on the first call per event. */
  WatchEventsResponse shared(MeshEvent e) {
    int i = System.identityHashCode(e) & (SLOTS - 1);
    Slot s = slots.get(i);
    if (s != null && s.event() == e) {
      return s.response();
    }
    WatchEventsResponse r = build(e);
    r.getDetailBytes(); // encode the detail once; copies made from r share the bytes
    slots.set(i, new Slot(e, r));
    return r;
  }

  static WatchEventsResponse build(MeshEvent e) {
    WatchEventsResponse.Builder b =
        WatchEventsResponse.newBuilder()
            .setKind(EventService.kindOf(e.kind()))
            .setVmId(Math.max(e.vmId(), 0))
            .setDetail(e.detail());
    if (e.hostId() != MeshEvent.NONE) {
      b.setHostId(e.hostId());
    }
    if (e.vcpu() != MeshEvent.NONE) {
      b.setVcpuIndex(e.vcpu());
    }
    if (e.ea() != MeshEvent.NONE) {
      b.setEffectiveAddr(e.ea());
    }
    if (e.gfn() != MeshEvent.NONE) {
      b.setGuestFrame(e.gfn());
    }
    if (e.pfn() != MeshEvent.NONE) {
      b.setHostPfn(e.pfn());
    }
    return b.build();
  }
}
