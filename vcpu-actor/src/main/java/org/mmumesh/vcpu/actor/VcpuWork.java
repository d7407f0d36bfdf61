package org.mmumesh.vcpu.actor;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.AccessOp;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.vcpu.AccessRecorder;
import org.mmumesh.vcpu.actor.VcpuProtocol.BatchReply;
import org.mmumesh.vcpu.actor.VcpuProtocol.StateReply;
import org.mmumesh.vcpu.actor.VcpuProtocol.TraceReply;

/**
 * The units of work a {@link Vcpu} holds (plain state it owns, no behaviour): an accepted batch
 * with its cursor, a {@code TraceAccess} or {@code SetState} in progress, and what waits for a
 * store flush (a batch's {@code BatchDone}, a shootdown's ack; see "Stores and frame contents" in
 * {@link Vcpu}).
 */
final class VcpuWork {

  /** No batch id, request id or lease. */
  static final long NONE = Long.MIN_VALUE;

  private VcpuWork() {}

  /** An accepted batch and its cursor. */
  static final class Batch {
    final long batchId;
    final List<AccessOp> ops;
    final List<ActorRef<BatchReply>> replyTos = new ArrayList<>(1);
    final List<String> failures = new ArrayList<>();
    int pos;
    int completed;
    int failed;

    /** The one-access batch of a {@link TraceAccess} (no BatchDone). */
    final boolean trace;

    Batch(long batchId, List<AccessOp> ops, ActorRef<BatchReply> replyTo) {
      this.batchId = batchId;
      this.ops = ops;
      this.trace = replyTo == null;
      if (replyTo != null) {
        replyTos.add(replyTo);
      }
    }
  }

  /** Where a {@link TraceAccess} is. */
  enum TracePhase {
    RC_BEFORE,
    EXECUTING,
    STORES,
    RC_AFTER,
    WORD
  }

  /** A {@link TraceAccess} in progress. */
  static final class TraceOp {
    final long requestId;
    final AccessOp op;
    final List<ActorRef<TraceReply>> replyTos = new ArrayList<>(1);
    final AccessRecorder rec = new AccessRecorder();
    final Batch batch;
    TracePhase phase = TracePhase.RC_BEFORE;

    TraceOp(long requestId, AccessOp op, ActorRef<TraceReply> replyTo) {
      this.requestId = requestId;
      this.op = op;
      this.batch = new Batch(NONE, List.of(op), null);
      replyTos.add(replyTo);
    }
  }

  /** A {@link SetState} in progress (from Idle, to which it returns). */
  static final class StateOp {
    final long requestId;
    final List<ActorRef<StateReply>> replyTos = new ArrayList<>(1);

    StateOp(long requestId, ActorRef<StateReply> replyTo) {
      this.requestId = requestId;
      replyTos.add(replyTo);
    }
  }

  /** A finished batch whose BatchDone waits for the store flush {@code seq}. */
  record WaitingDone(long seq, Batch batch) {}

  /** A shootdown ack waiting for the store flush {@code seq}. */
  record WaitingAck(long seq, long epoch, ActorRef<HostMmu.TlbShootdownAck> ack) {}
}
