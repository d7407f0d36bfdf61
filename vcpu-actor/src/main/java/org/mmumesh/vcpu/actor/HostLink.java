package org.mmumesh.vcpu.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.hostmmu.actor.HostMmu;

/**
 * A {@link Vcpu}'s view of its VM's {@link HostMmu} ("TLB shootdowns" in docs/design.md's vCPU
 * section): the TLB epoch it knows (TLB entries of an older one are dead), whether a
 * KVM_REQ_TLB_FLUSH is pending (spec 5.7: processed at the next guest entry), and its subscription
 * to shootdowns. Plain state the actor and its {@link AccessDriver} share; every method runs on the
 * actor's thread.
 */
final class HostLink {

  private final int vcpu;
  private final ActorRef<HostMmu.Command> host;
  private final ActorRef<HostMmu.TlbShootdown> shootdowns;

  private long knownEpoch;
  private boolean subscribing;

  /**
   * KVM_REQ_TLB_FLUSH: the vCPU sends {@link HostMmu.FlushVcpu} before it next enters the guest.
   */
  boolean pendingFlush;

  HostLink(
      int vcpu,
      ActorRef<HostMmu.Command> host,
      ActorRef<HostMmu.TlbShootdown> shootdowns,
      long knownEpoch,
      boolean pendingFlush) {
    this.vcpu = vcpu;
    this.host = host;
    this.shootdowns = shootdowns;
    this.knownEpoch = knownEpoch;
    this.pendingFlush = pendingFlush;
  }

  /** Sets the known epoch and the pending flush request (a checkpoint restore at a barrier). */
  void restore(long epoch, boolean flush) {
    knownEpoch = epoch;
    pendingFlush = flush;
  }

  /** The HostMmu epoch the TLB entries must carry. */
  long knownEpoch() {
    return knownEpoch;
  }

  /** {@link HostMmu.SubscribeTlb} with {@code epoch}; its answer is not counted in SHOOTDOWNS. */
  void subscribe(long epoch) {
    subscribing = true;
    host.tell(new HostMmu.SubscribeTlb(vcpu, epoch, shootdowns));
  }

  /** Notes the epoch of a HostMmu reply; false when it is below the known one (re-subscribed). */
  boolean noteEpoch(long epoch) {
    if (epoch > knownEpoch) {
      knownEpoch = epoch;
      return true;
    }
    if (epoch < knownEpoch) {
      subscribe(knownEpoch);
      return false;
    }
    return true;
  }

  /** What a shootdown was to this vCPU. */
  enum Shootdown {
    /** A shootdown (counted in SHOOTDOWNS). */
    COUNTED,
    /** The answer to a subscription: removes nothing, not counted. */
    SUBSCRIBED,
    /**
     * The answer to a subscription with an epoch below the known one: the HostMmu restarted, so the
     * (restored) TLB entries must go; the vCPU has subscribed again.
     */
    RESTARTED
  }

  /**
   * A shootdown arrived: the known epoch moves up (which empties the TLB) and a flush request
   * ({@link HostMmu.TlbShootdown#flushRequested()}, Q8: {@code kvm_flush_remote_tlbs}) sets
   * KVM_REQ_TLB_FLUSH pending.
   */
  Shootdown onShootdown(HostMmu.TlbShootdown t) {
    if (t.epoch() > knownEpoch) {
      knownEpoch = t.epoch();
    }
    if (t.flushRequested()) {
      pendingFlush = true;
    }
    if (!subscribing) {
      return Shootdown.COUNTED;
    }
    subscribing = false;
    if (t.epoch() < knownEpoch) {
      subscribe(knownEpoch);
      return Shootdown.RESTARTED;
    }
    return Shootdown.SUBSCRIBED;
  }
}
