package org.mmumesh.vcpu.actor;

import java.util.List;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.vcpu.actor.OutstandingRequest.Kind;
import org.mmumesh.vcpu.actor.VcpuProtocol.Rejected;
import org.mmumesh.vcpu.actor.VcpuProtocol.SetState;
import org.mmumesh.vcpu.actor.VcpuProtocol.StateReply;
import org.mmumesh.vcpu.actor.VcpuProtocol.StateSet;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;
import org.mmumesh.vcpu.actor.VcpuWork.StateOp;

/**
 * The {@link SetState} requests of a {@link Vcpu} ("Setting the vCPU's state" in docs/design.md's
 * vCPU section): the one in progress, which a repeated request id joins, and the last one
 * completed, which a repeated id is answered from (a failed change is not remembered); and the
 * exchange that carries a change out: {@link GuestMmu.SetVcpuState}, then, once the vCPU took the
 * new mode, {@link HostMmu.FlushVcpu} ({@code kvmppc_mmu_pte_flush(vcpu, 0, 0)}). Plain state the
 * actor owns: every method runs on the actor's thread.
 */
final class StateChanges {

  private final int vcpu;
  private final OutstandingRequest requests;
  private final ActorRef<GuestMmu.Command> guest;
  private final ActorRef<HostMmu.Command> host;
  private final PeerReplies replies;
  private final HostLink link;
  private final IntConsumer takeMode;

  private StateOp inProgress;
  private StateSet last;
  private int mode;

  /**
   * @param takeMode applies the new mode to the vCPU (its TLB and cached VSIDs dropped)
   */
  StateChanges(
      int vcpu,
      OutstandingRequest requests,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      PeerReplies replies,
      HostLink link,
      IntConsumer takeMode) {
    this.vcpu = vcpu;
    this.requests = requests;
    this.guest = guest;
    this.host = host;
    this.replies = replies;
    this.link = link;
    this.takeMode = takeMode;
  }

  /** Idle --SetState--&gt; Running: {@code m} (valid) is in progress; sent to the GuestMmu. */
  void start(SetState m) {
    inProgress = new StateOp(m.requestId(), m.replyTo());
    List<VcpuStateChange> changes = List.copyOf(m.changes());
    requests.send(
        Kind.SET_STATE,
        guest,
        id -> new GuestMmu.SetVcpuState(id, vcpu, changes, replies.guestState));
  }

  /** The GuestMmu applied the changes: the vCPU takes the mode, the host flushes this vCPU. */
  void applied(GuestMmu.VcpuStateSet s) {
    mode = s.mode();
    takeMode.accept(mode);
    // kvmppc_mmu_pte_flush(vcpu, 0, 0): also satisfies a pending KVM_REQ_TLB_FLUSH
    link.pendingFlush = false;
    requests.send(Kind.STATE_FLUSH, host, id -> new HostMmu.FlushVcpu(id, vcpu, replies.flush));
  }

  /**
   * The host flushed after the change ({@code f}), or did not (null: refused or timed out; then the
   * next guest entry flushes): the change is done, remembered and answered.
   */
  void flushed(HostMmu.Flushed f) {
    if (f != null) {
      link.noteEpoch(f.epoch());
    } else {
      link.pendingFlush = true;
    }
    StateSet reply = new StateSet(inProgress.requestId, mode);
    last = reply;
    answer(reply);
  }

  /** The change in progress failed ({@code why}): answered {@link Rejected}, not remembered. */
  void failed(String why) {
    answer(new Rejected(inProgress.requestId, VcpuState.IDLE, why));
  }

  /** The refusal of {@code changes} (naming the field and the allowed range), or null if valid. */
  static String invalid(List<VcpuStateChange> changes) {
    List<VcpuStateChange> c = changes;
    if (c == null || c.isEmpty() || c.size() > VcpuProtocol.MAX_STATE_CHANGES) {
      return "changes: "
          + (c == null ? "null" : c.size() + " changes")
          + " is out of range; allowed 1 to "
          + VcpuProtocol.MAX_STATE_CHANGES;
    }
    for (int i = 0; i < c.size(); i++) {
      if (c.get(i) == null) {
        return "changes[" + i + "]: null; required";
      }
    }
    return null;
  }

  /** Takes back the last completed change of a parked vCPU (null: none). */
  void restore(StateSet lastCompleted) {
    last = lastCompleted;
  }

  /** The last completed change (null: none), for parking. */
  StateSet last() {
    return last;
  }

  /** Whether a change is in progress. */
  boolean inProgress() {
    return inProgress != null;
  }

  /** Answers {@code m} from memory if its id is the last completed change's; else false. */
  boolean replayed(SetState m) {
    if (last != null && last.requestId() == m.requestId()) {
      m.replyTo().tell(last);
      return true;
    }
    return false;
  }

  /** Joins {@code m} to the change in progress if it has its id; else false. */
  boolean joined(SetState m) {
    if (inProgress != null && inProgress.requestId == m.requestId()) {
      inProgress.replyTos.add(m.replyTo());
      return true;
    }
    return false;
  }

  /** Answers every requester of the change in progress with {@code reply}; none is in progress. */
  private void answer(StateReply reply) {
    StateOp o = inProgress;
    inProgress = null;
    for (ActorRef<StateReply> r : o.replyTos) {
      r.tell(reply);
    }
  }

  /** The vCPU halted: a change in progress is rejected. */
  void halted() {
    if (inProgress != null) {
      for (ActorRef<StateReply> r : inProgress.replyTos) {
        r.tell(new Rejected(inProgress.requestId, VcpuState.HALTED, "SetState: the vCPU halted"));
      }
      inProgress = null;
    }
  }
}
