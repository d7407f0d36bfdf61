package org.mmumesh.hostmmu;

import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.mmumesh.hostmmu.HostMmuProtocol.TlbShootdown;
import org.mmumesh.hostmmu.HostMmuProtocol.TlbShootdownAck;

/**
 * The vCPU TLBs one {@link HostMmu} shoots down ({@code tlbie; tlbsync}, architecture 4
 * "Invalidation"): one subscriber per vCPU index (watched, so a stopped vCPU is dropped and no
 * longer awaited), the KVM_REQ_TLB_FLUSH pending per vCPU (quirk Q8, spec 5.7: repeated in every
 * shootdown to that vCPU until its {@code FlushVcpu} is applied), and the one {@link
 * ShootdownRound} in flight with the reply it holds back until every subscriber acknowledged.
 *
 * <p>Owned by the actor and used only from its message handlers; the actor owns the epoch, the
 * timeout timer and the stash of commands that wait for the round.
 */
final class TlbSubscribers {
  private final ActorContext<?> ctx;
  private final ActorRef<TlbShootdownAck> ackRef;
  private final ActorRef<TlbShootdown>[] subscribers;
  private final boolean[] flushRequested;
  private int count;

  /** The shootdown in flight, and the reply it holds back; both null when none. */
  private ShootdownRound round;

  private Runnable heldReply;

  @SuppressWarnings("unchecked")
  TlbSubscribers(ActorContext<?> ctx, ActorRef<TlbShootdownAck> ackRef, int vcpus) {
    this.ctx = ctx;
    this.ackRef = ackRef;
    this.subscribers = (ActorRef<TlbShootdown>[]) new ActorRef<?>[vcpus];
    this.flushRequested = new boolean[vcpus];
  }

  /** The number of subscribed vCPUs. */
  int count() {
    return count;
  }

  /** True while a shootdown waits for acknowledgements. */
  boolean inFlight() {
    return round != null;
  }

  /**
   * Subscribes {@code ref} for vCPU {@code vcpu} (replacing its earlier ref) and sends it a
   * shootdown of {@code epoch} at once, with its pending flush request; no ack is awaited.
   */
  void subscribe(int vcpu, ActorRef<TlbShootdown> ref, long epoch) {
    ActorRef<TlbShootdown> old = subscribers[vcpu];
    subscribers[vcpu] = ref;
    if (old == null) {
      count++;
    } else if (!old.equals(ref) && !isSubscribed(old)) {
      ctx.unwatch(old);
    }
    ctx.watch(ref);
    ref.tell(new TlbShootdown(epoch, ackRef, flushRequested[vcpu]));
  }

  /** Q8: KVM_REQ_TLB_FLUSH for every vCPU, until each one's {@code FlushVcpu} is applied. */
  void requestFlushAll() {
    Arrays.fill(flushRequested, true);
  }

  /** vCPU {@code vcpu}'s {@code FlushVcpu} is applied: its flush request is cleared. */
  void flushApplied(int vcpu) {
    flushRequested[vcpu] = false;
  }

  /**
   * Starts a shootdown of {@code epoch} that holds {@code reply} until every subscriber
   * acknowledged; false (nothing started, the caller replies now) when nobody is subscribed.
   */
  boolean start(long epoch, Runnable reply) {
    if (count == 0) {
      return false;
    }
    ShootdownRound r = new ShootdownRound(epoch, subscribers.length);
    TlbShootdown plain = new TlbShootdown(epoch, ackRef, false);
    TlbShootdown requesting = new TlbShootdown(epoch, ackRef, true);
    for (int v = 0; v < subscribers.length; v++) {
      if (subscribers[v] != null) {
        r.await(v);
        subscribers[v].tell(flushRequested[v] ? requesting : plain);
      }
    }
    round = r;
    heldReply = reply;
    return true;
  }

  /** An acknowledgement; true when it completed the round in flight. */
  boolean ack(int vcpu, long epoch) {
    return round != null && round.ack(vcpu, epoch) && round.complete();
  }

  /** The vCPUs that have not acknowledged the round of {@code epoch}, or null when none is. */
  int[] outstanding(long epoch) {
    return round == null || round.epoch() != epoch ? null : round.outstandingVcpus();
  }

  /** The actor of {@code ref} stopped: it is unsubscribed; true when that completed the round. */
  boolean stopped(ActorRef<?> ref) {
    for (int v = 0; v < subscribers.length; v++) {
      if (ref.equals(subscribers[v])) {
        subscribers[v] = null;
        count--;
        if (round != null) {
          round.abandon(v);
        }
      }
    }
    return round != null && round.complete();
  }

  /** Ends the round in flight and sends the reply it held. */
  void finish() {
    Runnable reply = heldReply;
    round = null;
    heldReply = null;
    reply.run();
  }

  private boolean isSubscribed(ActorRef<TlbShootdown> ref) {
    for (ActorRef<TlbShootdown> s : subscribers) {
      if (ref.equals(s)) {
        return true;
      }
    }
    return false;
  }
}
