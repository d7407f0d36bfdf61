package org.mmumesh.vcpu.actor;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.vcpu.actor.AccessDriver.Next;
import org.mmumesh.vcpu.actor.OutstandingRequest.Kind;
import org.mmumesh.vcpu.actor.VcpuProtocol.Acknowledged;
import org.mmumesh.vcpu.actor.VcpuProtocol.ControlReply;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;
import org.mmumesh.vcpu.actor.VcpuWork.TraceOp;

/**
 * What {@link VcpuProtocol.Halt} does to a {@link Vcpu}'s parts: the requesters waiting for the
 * next access boundary, and the halt itself: the outstanding request dropped, a SetState or trace
 * in progress answered, the access in progress and every access not executed failed ("halted"), the
 * stores flushed, and a KVM_REQ_TLB_FLUSH pending or in flight sent now, since a halted vCPU never
 * enters the guest again (else, under Q8, a writable mapping of a just-merged KSM frame would stay
 * in the HostMmu for good); Halt is acknowledged once that flush is done. Plain state the actor
 * owns; every method runs on the actor's thread.
 */
final class Halting {

  private final List<ActorRef<ControlReply>> waiters = new ArrayList<>(1);
  private final VcpuParts parts;

  Halting(VcpuParts parts) {
    this.parts = parts;
  }

  /** {@code replyTo} waits for the halt (at the next access boundary, or now). */
  void await(ActorRef<ControlReply> replyTo) {
    waiters.add(replyTo);
  }

  /** Whether a Halt waits. */
  boolean due() {
    return !waiters.isEmpty();
  }

  /** Any state --Halt--&gt; Halted: every access not executed fails, the stores are flushed. */
  void halt() {
    OutstandingRequest requests = parts.requests;
    boolean storeDone = requests.kind() == Kind.RC; // only its missed-C verdict was outstanding
    boolean flush =
        parts.link.pendingFlush
            || requests.kind() == Kind.FLUSH
            || requests.kind() == Kind.STATE_FLUSH;
    if (requests.kind() != null) {
      requests.clear();
    }
    TraceOp t = parts.traces.take();
    parts.states.halted();
    parts.driver.halt(storeDone);
    parts.flushes.barrier();
    if (t != null) {
      t.rec.failed("halted during the traced access");
      parts.traces.answer(t);
    }
    if (flush) {
      parts.link.pendingFlush = true;
      flushRequested(); // Halt is acknowledged once the flush is done
    } else {
      ack();
    }
  }

  /**
   * Halted, a KVM_REQ_TLB_FLUSH is pending: processed at once ({@link HostMmu.FlushVcpu}), since
   * there is no next guest entry; one at a time, a request arriving meanwhile is sent after it.
   */
  void flushRequested() {
    if (parts.requests.kind() != null) {
      parts.link.pendingFlush = true; // sent when the one in flight is answered
      return;
    }
    parts.link.pendingFlush = false;
    parts.driver.sendFlush(this::flushed);
  }

  private Next flushed() {
    ack();
    if (parts.link.pendingFlush) {
      flushRequested();
    }
    return Next.SAME;
  }

  private void ack() {
    for (ActorRef<ControlReply> r : waiters) {
      r.tell(new Acknowledged("Halt", VcpuState.HALTED));
    }
    waiters.clear();
  }
}
