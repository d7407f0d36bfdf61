package org.mmumesh.hostmmu.actor;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.guestmmu.actor.GuestMmu;

/**
 * Carries one VM's guest tlbies (spec 5.6 "Users") from its {@link GuestMmu} to its {@link
 * HostMmu}, as the kernel's {@code kvmppc_mmu_pte_vflush}/{@code pte_flush} call from the emulated
 * tlbie into the host side: {@link GuestMmu.HostTlbie} becomes {@link HostMmu.GuestTlbie} with the
 * same request id, and {@link GuestMmu.TlbieDone} is answered only when {@link HostMmu.Flushed}
 * arrived (the HostMmu removed the shadow PTEs and every vCPU acknowledged the TLB shootdown), so
 * the guest's tlbie completes only after the host flush, as the emulated instruction does.
 *
 * <p>State: the requests waiting for their flush, keyed by request id. The GuestMmu's tlbie ids are
 * unique per VM and a retried tlbie keeps its id, so a retry replaces the entry and the HostMmu's
 * retry memory (the shell kit's {@code LastReplies}) answers it once. A {@link HostMmu.Rejected} or
 * {@link HostMmu.Failed} is logged and not answered: the GuestMmu's tlbie timeout then fails its
 * request and owes the flush (its documented path).
 *
 * <p>This is the one copy of the adapter: the mesh creates one per VM per node (its {@code
 * NodeGlue}), and the flow tests of vcpu-actor spawn it beside the real actors.
 */
public final class TlbieAdapter {
  private TlbieAdapter() {}

  /**
   * The adapter for the VM whose host MMU is {@code host}; it accepts {@link GuestMmu.HostTlbie}
   * (narrow the ref to give it to the GuestMmu) and the host MMU's {@link HostMmu.FlushReply}.
   */
  public static Behavior<Object> create(ActorRef<HostMmu.Command> host) {
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
