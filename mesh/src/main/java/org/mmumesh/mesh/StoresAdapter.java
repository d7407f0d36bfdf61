package org.mmumesh.mesh;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.Vcpu;

/**
 * Carries the vCPUs' {@link Vcpu.StoreBatch}es to their host's {@link PageFrame} as {@link
 * PageFrame.ApplyStores} and answers {@link Vcpu.StoresApplied} with the vCPU's request id. The
 * PageFrame request id is this adapter's own (unique here), and a retry of the same vCPU request id
 * reuses it, so the PageFrame's per-(vm, vCPU) retry memory answers it without applying twice. A
 * {@link PageFrame.Rejected} is logged and answered with every store refused.
 */
final class StoresAdapter {
  private StoresAdapter() {}

  /** The last batch of one vCPU. */
  private record Last(
      long vcpuRequestId, long frameRequestId, int size, ActorRef<Vcpu.StoresApplied> to) {}

  static Behavior<Object> create(ActorRef<PageFrame.Command> frames) {
    return Behaviors.setup(
        ctx -> {
          Long2ObjectOpenHashMap<Last> lastOf = new Long2ObjectOpenHashMap<>();
          Long2ObjectOpenHashMap<Last> byFrameId = new Long2ObjectOpenHashMap<>();
          long[] nextId = {1};
          ActorRef<PageFrame.StoresReply> self = ctx.getSelf().narrow();
          return Behaviors.receive(Object.class)
              .onMessage(
                  Vcpu.StoreBatch.class,
                  m -> {
                    long who = ((long) m.vm() << 32) | m.vcpu();
                    Last last = lastOf.get(who);
                    if (last == null || last.vcpuRequestId() != m.requestId()) {
                      if (last != null) {
                        byFrameId.remove(last.frameRequestId());
                      }
                      last = new Last(m.requestId(), nextId[0]++, m.size(), m.replyTo());
                      lastOf.put(who, last);
                    } else {
                      last = new Last(m.requestId(), last.frameRequestId(), m.size(), m.replyTo());
                      lastOf.put(who, last);
                    }
                    byFrameId.put(last.frameRequestId(), last);
                    frames.tell(
                        new PageFrame.ApplyStores(
                            last.frameRequestId(),
                            m.vm(),
                            m.vcpu(),
                            m.pfns(),
                            m.offsets(),
                            m.values(),
                            self));
                    return Behaviors.same();
                  })
              .onMessage(
                  PageFrame.StoresDone.class,
                  m -> {
                    Last l = byFrameId.get(m.requestId());
                    if (l != null) {
                      l.to()
                          .tell(
                              new Vcpu.StoresApplied(l.vcpuRequestId(), m.applied(), m.refused()));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  PageFrame.Rejected.class,
                  m -> {
                    ctx.getLog().error("store batch rejected by the page frames: {}", m.reason());
                    Last l = byFrameId.get(m.requestId());
                    if (l != null) {
                      l.to().tell(new Vcpu.StoresApplied(l.vcpuRequestId(), 0, l.size()));
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
