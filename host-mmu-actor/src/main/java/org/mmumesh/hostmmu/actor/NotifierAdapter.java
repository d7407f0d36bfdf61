package org.mmumesh.hostmmu.actor;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import java.util.ArrayDeque;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * One VM's MMU-notifier subscriber (spec 5.7), the kernel's {@code kvm_mmu_notifier_invalidate_*}
 * callbacks: a {@link PageFrame.NotifierEvent} becomes {@link HostMmu.NotifierInvalidate} (with
 * quirk Q8 a full-flush request, which the HostMmu defers as the kernel does: every vCPU gets
 * KVM_REQ_TLB_FLUSH through a {@code TlbShootdown} with {@code flushRequested} and flushes its
 * shadow PTEs at its next guest entry; without Q8 {@code pte_pflush} of the range, at once), and
 * the {@link PageFrame.NotifierAck} goes out only after {@link HostMmu.NotifierAcked} (the HostMmu
 * shot down every vCPU TLB first, and every vCPU acknowledged), as the kernel's notifier callback
 * returns only after {@code kvm_flush_remote_tlbs}. A {@link HostMmu.Failed} is acknowledged too
 * (the HostMmu then reset its shadow state to empty: more than the invalidation); a {@link
 * HostMmu.Rejected} is logged and not acknowledged (the PageFrame's ack timeout then answers its
 * held reply, counted there).
 *
 * <p>State: per notifier seq, a queue of the page frames' reply refs, one per event still
 * unacknowledged. One seq can carry several events: aliased memslots (two slots backed by the same
 * host pages) turn one invalidation into one event per gfn range, and the page frames wait for an
 * ack of each. The HostMmu answers each invalidation once, so each answer acknowledges the oldest
 * event of its seq (the acks are interchangeable: they carry only vm and seq).
 *
 * <p>This is the one copy of the adapter: the mesh creates one per VM per node (its {@code
 * NodeGlue}), and the flow tests of vcpu-actor spawn it beside the real actors.
 */
public final class NotifierAdapter {
  private NotifierAdapter() {}

  /**
   * The subscriber for VM {@code vm} whose host MMU is {@code host}; it accepts {@link
   * PageFrame.NotifierEvent} (narrow the ref to subscribe it) and the host MMU's {@link
   * HostMmu.NotifierReply}. {@code fullFlush} is quirk Q8 (invalidate everything, deferred).
   */
  public static Behavior<Object> create(ActorRef<HostMmu.Command> host, int vm, boolean fullFlush) {
    return Behaviors.setup(
        ctx -> {
          Long2ObjectOpenHashMap<ArrayDeque<ActorRef<PageFrame.NotifierAck>>> waiting =
              new Long2ObjectOpenHashMap<>();
          ActorRef<HostMmu.NotifierReply> self = ctx.getSelf().narrow();
          return Behaviors.receive(Object.class)
              .onMessage(
                  PageFrame.NotifierEvent.class,
                  m -> {
                    waiting
                        .computeIfAbsent(m.notifierSeq(), k -> new ArrayDeque<>())
                        .add(m.replyTo());
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
                    ctx.getLog()
                        .warn("vm {} notifier seq {}: host MMU failed ({})", vm, m.requestId(), m);
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
      Long2ObjectOpenHashMap<ArrayDeque<ActorRef<PageFrame.NotifierAck>>> waiting,
      int vm,
      long seq) {
    ArrayDeque<ActorRef<PageFrame.NotifierAck>> q = waiting.get(seq);
    if (q == null) {
      return;
    }
    q.poll().tell(new PageFrame.NotifierAck(vm, seq));
    if (q.isEmpty()) {
      waiting.remove(seq);
    }
  }
}
