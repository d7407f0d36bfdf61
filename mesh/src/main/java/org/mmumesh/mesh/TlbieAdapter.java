package org.mmumesh.mesh;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.hostmmu.HostMmu;

/**
 * Carries one VM's guest tlbies (spec 5.6 "Users") from its {@link GuestMmu} to its {@link
 * HostMmu}: {@link GuestMmu.HostTlbie} becomes {@link HostMmu.GuestTlbie} with the same request id
 * (the GuestMmu's tlbie ids are unique per VM, and a retried tlbie keeps its id, so the HostMmu's
 * retry memory applies), and {@link GuestMmu.TlbieDone} is answered only when {@link
 * HostMmu.Flushed} arrived. A {@link HostMmu.Rejected} or {@link HostMmu.Failed} is logged and not
 * answered: the GuestMmu's tlbie timeout then fails its request and owes the flush (its documented
 * path).
 */
final class TlbieAdapter {
  private TlbieAdapter() {}

  static Behavior<Object> create(ActorRef<HostMmu.Command> host) {
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
}
