package org.mmumesh.hostmmu.actor;

import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.mmumesh.hostmmu.ShootdownRound;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.TlbShootdown;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.TlbShootdownAck;

/**
 * The vCPU TLBs one {@link HostMmu} shoots down ({@code tlbie; tlbsync}, architecture 4
 * "Invalidation"): one subscriber per vCPU index (watched, so a stopped vCPU is dropped and no
 * longer awaited), the KVM_REQ_TLB_FLUSH pending per vCPU (quirk Q8, spec 5.7: repeated in every
 * shootdown to that vCPU until its {@code FlushVcpu} is applied), and the one {@link
 * ShootdownRound} in flight.
 *
 * <h2>TLB shootdown ({@code tlbie; tlbsync})</h2>
 *
 * A command that removed host HPTEs bumps the epoch and sends {@link TlbShootdown} with the new
 * epoch to every subscribed vCPU; its reply ({@link HostMmu.Unmapped}, {@link HostMmu.Flushed},
 * {@link HostMmu.NotifierAcked}, {@link HostMmu.Mapped} after an eviction, {@link HostMmu.Failed}
 * after a reset) is sent only when every subscriber has answered {@link TlbShootdownAck} with that
 * epoch or newer, so no vCPU TLB entry outlives its host HPTE. A command that removed nothing
 * replies at once (no TLB entry at the current epoch can refer to a removed HPTE, since every
 * earlier removal bumped the epoch). A subscriber that does not answer within {@link
 * HostMmu.Settings#shootdownTimeout()} is logged (warning, naming the vCPUs) and counted ({@code
 * SHOOTDOWN_TIMEOUTS}, {@code SHOOTDOWN_UNANSWERED_VCPUS}), and the reply is sent anyway: a hung
 * vCPU must not stall the VM's memory management, and a vCPU that later runs sees the newer epoch
 * in its next reply. A subscriber whose actor stops is dropped and no longer awaited.
 *
 * <p><b>Q8 notifiers are deferred</b> (spec 5.7: {@code kvm_flush_remote_tlbs} sets
 * KVM_REQ_TLB_FLUSH, each vCPU runs {@code pte_flush(vcpu, 0, 0)} in {@code
 * kvmppc_core_check_requests} before its next guest entry): a {@link HostMmu.NotifierInvalidate}
 * with {@code fullFlush} flushes nothing itself. It marks a flush request for every vCPU, bumps the
 * epoch and sends a shootdown with {@code flushRequested} (the request plus the kick IPI); it is
 * acknowledged when every subscriber acked. Each vCPU then sends {@link HostMmu.FlushVcpu} at its
 * next guest entry, exactly where the sequential engine calls {@code flushAll}; the request flag is
 * cleared when that FlushVcpu is applied and repeated in every shootdown (and subscription) to that
 * vCPU until then.
 *
 * <h2>Contract for vCPUs</h2>
 *
 * A vCPU keeps the highest epoch it has seen (from {@link TlbShootdown} or any reply); entries are
 * valid only at that epoch, so a higher epoch empties its TLB. It fills its TLB with the epoch of
 * the {@link HostMmu.LookedUp} it got. It acknowledges each {@link TlbShootdown} after it emptied
 * its TLB. When it (re)subscribes it passes the highest epoch it has seen, and the host MMU moves
 * its epoch above it: epochs never repeat for a vCPU, even across host-MMU incarnations. A reply
 * whose epoch is lower than the vCPU's known epoch means the host MMU restarted: the vCPU empties
 * its TLB and subscribes again.
 *
 * <p>Owned by the actor and used only from its message handlers; the actor owns the epoch, the
 * timeout timer, and the held reply with the stash of commands that wait for the round (the shell
 * kit's {@code HeldReplies}).
 */
final class TlbSubscribers {
  private final ActorContext<?> ctx;
  private final ActorRef<TlbShootdownAck> ackRef;
  private final ActorRef<TlbShootdown>[] subscribers;
  private final boolean[] flushRequested;
  private int count;

  /** The shootdown in flight, or null. */
  private ShootdownRound round;

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

  /** Per vCPU, whether a Q8 flush request is pending (a copy; checkpoint). */
  boolean[] flushRequested() {
    return flushRequested.clone();
  }

  /** Sets the pending Q8 flush requests (restore; {@code requested} has one entry per vCPU). */
  void restoreFlushRequested(boolean[] requested) {
    System.arraycopy(requested, 0, flushRequested, 0, flushRequested.length);
  }

  /** True when a shootdown is in flight. */
  boolean inRound() {
    return round != null;
  }

  /** vCPU {@code vcpu}'s {@code FlushVcpu} is applied: its flush request is cleared. */
  void flushApplied(int vcpu) {
    flushRequested[vcpu] = false;
  }

  /**
   * Starts a shootdown of {@code epoch}: sent to every subscriber, awaiting each one's ack; false
   * (nothing started, the caller replies now) when nobody is subscribed.
   */
  boolean start(long epoch) {
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

  /** Ends the round in flight (acknowledged, timed out, or its last subscriber stopped). */
  void endRound() {
    round = null;
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
