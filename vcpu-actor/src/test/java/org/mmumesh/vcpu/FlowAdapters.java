package org.mmumesh.vcpu;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.hostmmu.HostMmu;
import org.mmumesh.pageframe.PageFrame;

/**
 * Test copies of the mesh's glue ({@code org.mmumesh.mesh.TlbieAdapter} and {@code
 * org.mmumesh.mesh.NotifierAdapter}, which vcpu-actor cannot depend on), behaving the same: a guest
 * tlbie ({@link GuestMmu.HostTlbie}) becomes {@link HostMmu.GuestTlbie} with the same request id
 * and is answered {@link GuestMmu.TlbieDone} only after {@link HostMmu.Flushed}; an MMU-notifier
 * event ({@link PageFrame.NotifierEvent}) becomes {@link HostMmu.NotifierInvalidate} (full flush
 * when Q8 is on) and is acknowledged to the page frames only after {@link HostMmu.NotifierAcked}
 * (or {@link HostMmu.Failed}). Anything else is logged and not answered, as in the mesh.
 */
final class FlowAdapters {
  private FlowAdapters() {}

  /** Guest tlbie -> host flush, answered after the flush (mesh {@code TlbieAdapter}). */
  static Behavior<Object> tlbie(ActorRef<HostMmu.Command> host) {
    return Behaviors.setup(
        ctx -> {
          Long2ObjectOpenHashMap<ActorRef<GuestMmu.TlbieDone>> waiting =
              new Long2ObjectOpenHashMap<>();
          ActorRef<HostMmu.FlushReply> self = ctx.getSelf().narrow();
          return Behaviors.receive(Object.class)
              .onMessage(
                  GuestMmu.HostTlbie.class,
                  m -> {
                    waiting.put(m.requestId(), m.replyTo());
                    host.tell(new HostMmu.GuestTlbie(m.requestId(), m.flush(), self));
                    return Behaviors.same();
                  })
              .onMessage(
                  HostMmu.Flushed.class,
                  m -> {
                    ActorRef<GuestMmu.TlbieDone> r = waiting.remove(m.requestId());
                    if (r != null) {
                      r.tell(new GuestMmu.TlbieDone(m.requestId()));
                    }
                    return Behaviors.same();
                  })
              .onAnyMessage(
                  m -> {
                    ctx.getLog().error("guest tlbie not done by the host MMU: {}", m);
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** MMU notifier -> host invalidation, acked after it (mesh {@code NotifierAdapter}). */
  static Behavior<Object> notifier(ActorRef<HostMmu.Command> host, int vm, boolean fullFlush) {
    return Behaviors.setup(
        ctx -> {
          Long2ObjectOpenHashMap<ActorRef<PageFrame.NotifierAck>> waiting =
              new Long2ObjectOpenHashMap<>();
          ActorRef<HostMmu.NotifierReply> self = ctx.getSelf().narrow();
          return Behaviors.receive(Object.class)
              .onMessage(
                  PageFrame.NotifierEvent.class,
                  m -> {
                    waiting.put(m.notifierSeq(), m.replyTo());
                    host.tell(
                        new HostMmu.NotifierInvalidate(
                            m.gfnStart(), m.gfnEnd(), m.notifierSeq(), fullFlush, self));
                    return Behaviors.same();
                  })
              .onMessage(
                  HostMmu.NotifierAcked.class,
                  m -> {
                    ack(waiting, vm, m.notifierSeq());
                    return Behaviors.same();
                  })
              .onMessage(
                  HostMmu.Failed.class,
                  m -> {
                    ctx.getLog().warn("vm {} notifier seq {}: host MMU failed", vm, m.requestId());
                    ack(waiting, vm, m.requestId());
                    return Behaviors.same();
                  })
              .onAnyMessage(
                  m -> {
                    ctx.getLog().error("vm {}: notifier invalidation not applied: {}", vm, m);
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void ack(
      Long2ObjectOpenHashMap<ActorRef<PageFrame.NotifierAck>> waiting, int vm, long seq) {
    ActorRef<PageFrame.NotifierAck> r = waiting.remove(seq);
    if (r != null) {
      r.tell(new PageFrame.NotifierAck(vm, seq));
    }
  }
}
