package org.mmumesh.vcpu.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.vcpu.actor.VcpuProtocol.AccessTraced;
import org.mmumesh.vcpu.actor.VcpuProtocol.TraceAccess;
import org.mmumesh.vcpu.actor.VcpuProtocol.TraceReply;
import org.mmumesh.vcpu.actor.VcpuWork.TraceOp;

/**
 * The {@link TraceAccess} requests of a {@link Vcpu} (see "A traced access" in {@link Vcpu}): the
 * one in progress, which a repeated request id joins, and the last one answered, which a repeated
 * id is answered from. Plain state the actor owns: every method runs on the actor's thread.
 */
final class TracedAccesses {

  private TraceOp current;
  private AccessTraced last;

  /** Takes back the last answered trace of a parked vCPU (null: none). */
  void restore(AccessTraced lastAnswered) {
    last = lastAnswered;
  }

  /** The last answered trace (null: none), for parking. */
  AccessTraced last() {
    return last;
  }

  /** The trace in progress, or null. */
  TraceOp current() {
    return current;
  }

  /** Answers {@code m} from memory if its id is the last answered trace's; else false. */
  boolean replayed(TraceAccess m) {
    if (last != null && last.requestId() == m.requestId()) {
      m.replyTo().tell(last);
      return true;
    }
    return false;
  }

  /** Joins {@code m} to the trace in progress if it has its id; else false. */
  boolean joined(TraceAccess m) {
    if (current != null && current.requestId == m.requestId()) {
      current.replyTos.add(m.replyTo());
      return true;
    }
    return false;
  }

  /** {@code t} is now the trace in progress. */
  void begin(TraceOp t) {
    current = t;
  }

  /** The trace in progress (null: none), which is over: none is in progress any more. */
  TraceOp take() {
    TraceOp t = current;
    current = null;
    return t;
  }

  /** Answers every requester of {@code t} with its trace, and remembers the answer. */
  void answer(TraceOp t) {
    AccessTraced reply = new AccessTraced(t.requestId, t.rec.build());
    last = reply;
    for (ActorRef<TraceReply> r : t.replyTos) {
      r.tell(reply);
    }
  }
}
