package org.mmumesh.vcpu.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.AccessDriver.Next;
import org.mmumesh.vcpu.actor.OutstandingRequest.Kind;
import org.mmumesh.vcpu.actor.VcpuProtocol.AccessTraced;
import org.mmumesh.vcpu.actor.VcpuProtocol.TraceAccess;
import org.mmumesh.vcpu.actor.VcpuProtocol.TraceReply;
import org.mmumesh.vcpu.actor.VcpuWork.TraceOp;
import org.mmumesh.vcpu.actor.VcpuWork.TracePhase;

/**
 * The {@link TraceAccess} requests of a {@link Vcpu} ("A traced access" in docs/design.md's vCPU
 * section): the one in progress, which a repeated request id joins, and the last one answered,
 * which a repeated id is answered from; and the trace's steps around the access itself, which the
 * {@link AccessDriver} runs: the guest R/C before ({@link GuestMmu.ReadRc}), then after the access
 * and its store are applied, then the loaded word ({@link PageFrame.ReadWord}). Plain state the
 * actor owns: every method runs on the actor's thread.
 */
final class TracedAccesses {

  private final int vm;
  private final int vcpu;
  private final OutstandingRequest requests;
  private final ActorRef<GuestMmu.Command> guest;
  private final ActorRef<PageFrame.Command> frames;
  private final PeerReplies replies;
  private AccessDriver driver;

  private TraceOp current;
  private AccessTraced last;

  TracedAccesses(
      int vm,
      int vcpu,
      OutstandingRequest requests,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<PageFrame.Command> frames,
      PeerReplies replies) {
    this.vm = vm;
    this.vcpu = vcpu;
    this.requests = requests;
    this.guest = guest;
    this.frames = frames;
    this.replies = replies;
  }

  /** The driver that runs the traced access (made after this). */
  void drivenBy(AccessDriver driver) {
    this.driver = driver;
  }

  /** Idle --TraceAccess--&gt; Running: {@code m} is the trace in progress; R/C are read first. */
  void start(TraceAccess m) {
    current = new TraceOp(m.requestId(), m.op(), m.replyTo());
    readRc(m.op().ea());
  }

  private void readRc(long ea) {
    requests.send(Kind.TRACE_RC, guest, id -> new GuestMmu.ReadRc(id, vcpu, ea, replies.rc));
  }

  /**
   * R/C before (then the access runs) or after (then the loaded word is read); null: not read (no
   * guest HPTE, refused or timed out).
   */
  Next onRc(AccessTrace.Rc rc) {
    TraceOp t = current;
    if (t.phase == TracePhase.RC_BEFORE) {
      t.rec.rcBefore(rc);
      t.phase = TracePhase.EXECUTING;
      return driver.runTraced(t);
    }
    t.rec.rcAfter(rc);
    if (t.rec.isCompleted() && t.op.kind() != Access.STORE && t.rec.hostPfn() >= 0) {
      t.phase = TracePhase.WORD;
      int pfn = (int) t.rec.hostPfn();
      int offset = (int) (t.op.ea() & 0xFFF);
      requests.send(
          Kind.TRACE_WORD,
          frames,
          id -> new PageFrame.ReadWord(id, vm, pfn, offset, replies.words));
      return Next.SAME;
    }
    return done();
  }

  /** The traced access and its store are done: R/C are read after it. */
  void storesApplied() {
    if (current == null) {
      return; // halted meanwhile: already answered
    }
    current.phase = TracePhase.RC_AFTER;
    readRc(current.op.ea());
  }

  /** The traced load's word; null: not read (refused or timed out). */
  Next onWord(PageFrame.WordRead w) {
    if (w != null) {
      current.rec.loadedValue(w.value());
    }
    return done();
  }

  /** Answers the trace; Running --AccessTraced--&gt; Idle (or on with what was queued). */
  private Next done() {
    answer(take());
    return driver.runLoop();
  }

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
