package org.mmumesh.vcpu.actor;

import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.vcpu.actor.VcpuProtocol.Rejected;
import org.mmumesh.vcpu.actor.VcpuProtocol.SetState;
import org.mmumesh.vcpu.actor.VcpuProtocol.StateReply;
import org.mmumesh.vcpu.actor.VcpuProtocol.StateSet;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;
import org.mmumesh.vcpu.actor.VcpuWork.StateOp;

/**
 * The {@link SetState} requests of a {@link Vcpu} (see "Setting the vCPU's state" in {@link Vcpu}):
 * the one in progress, which a repeated request id joins, and the last one completed, which a
 * repeated id is answered from; a failed change is not remembered. Plain state the actor owns:
 * every method runs on the actor's thread.
 */
final class StateChanges {

  private StateOp inProgress;
  private StateSet last;

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

  /** The request id of the change in progress. */
  long requestId() {
    return inProgress.requestId;
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

  /** {@code m} is now the change in progress. */
  void begin(SetState m) {
    inProgress = new StateOp(m.requestId(), m.replyTo());
  }

  /** The change in progress is done in mode {@code mode}: remembered and answered. */
  void done(int mode) {
    StateSet reply = new StateSet(inProgress.requestId, mode);
    last = reply;
    answer(reply);
  }

  /** Answers every requester of the change in progress with {@code reply}; none is in progress. */
  void answer(StateReply reply) {
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
