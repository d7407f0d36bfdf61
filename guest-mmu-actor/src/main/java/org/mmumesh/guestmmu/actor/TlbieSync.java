package org.mmumesh.guestmmu.actor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.mmumesh.common.HostFlush;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Command;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Rejected;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.TlbieDone;
import org.slf4j.Logger;

/**
 * The {@link GuestMmu} shell's {@code tlbie; tlbsync} (spec 5.6 "Users", architecture 4
 * "Invalidation") and its memory of replies: the host flushes the guest kernel asks for while a
 * request runs are collected, sent to the VM's host MMU as {@link HostTlbie}s, and the request's
 * reply goes out only when every {@link TlbieDone} arrived. Unconfirmed flushes at the tlbie
 * timeout are owed and sent again, first, with the next request that flushes (or a retry).
 *
 * <p>It also remembers the last state-changing request of each vCPU (kind, request id, reply), so
 * the same kind and id again gets the remembered reply without re-applying (after waiting for its
 * flushes if they are still in flight or owed). Memory is one reply per vCPU; {@link Rejected}
 * replies are not remembered.
 *
 * <p>Owned by one actor and used only from its message handlers (no locking).
 */
final class TlbieSync {

  /** The remembered last state-changing request of one vCPU. */
  private static final class Remembered {
    final Class<?> kind;
    final long requestId;
    final int vcpu;
    final long ea;
    final Object reply;

    /** The reply when the host does not confirm the flushes; null for kinds that never flush. */
    final Function<String, Object> onTimeout;

    PendingOp pending;

    Remembered(
        Class<?> kind,
        long requestId,
        int vcpu,
        long ea,
        Object reply,
        Function<String, Object> onTimeout) {
      this.kind = kind;
      this.requestId = requestId;
      this.vcpu = vcpu;
      this.ea = ea;
      this.reply = reply;
      this.onTimeout = onTimeout;
    }
  }

  /** A reply waiting for the host's {@link TlbieDone}s. */
  private static final class PendingOp {
    final long id;
    final Remembered request;
    final List<ActorRef<Object>> waiters = new ArrayList<>(1);
    final Map<Long, HostFlush> unacked = new LinkedHashMap<>();
    int total;

    PendingOp(long id, Remembered request) {
      this.id = id;
      this.request = request;
    }
  }

  private final ActorRef<HostTlbie> host;
  private final ActorRef<TlbieDone> self;
  private final TimerScheduler<Command> timers;
  private final Duration timeout;
  private final Logger log;
  private final List<HostFlush> collected = new ArrayList<>();
  private final List<HostFlush> owed = new ArrayList<>();
  private final Remembered[] last;
  private final Map<Long, PendingOp> opByTlbie = new HashMap<>();
  private final Map<Long, PendingOp> ops = new HashMap<>();
  private long nextTlbieId = 1;
  private long nextOpId = 1;

  TlbieSync(
      ActorRef<HostTlbie> host,
      ActorRef<TlbieDone> self,
      TimerScheduler<Command> timers,
      Duration timeout,
      Logger log,
      int vcpus) {
    this.host = host;
    this.self = self;
    this.timers = timers;
    this.timeout = timeout;
    this.log = log;
    this.last = new Remembered[vcpus];
  }

  /**
   * Why the actor is not at a checkpoint barrier (guest tlbies awaiting the host's {@link
   * TlbieDone}, or flushes owed after a timeout), or null when it is.
   */
  String notAtBarrier() {
    if (!ops.isEmpty()) {
      return ops.size() + " guest tlbie operation(s) awaiting the host's TlbieDone";
    }
    if (!owed.isEmpty()) {
      return owed.size() + " guest tlbie flush(es) owed after a timeout";
    }
    return null;
  }

  /**
   * Forgets every vCPU's remembered request (a restore replaced the state they were answered from).
   * Only called at a barrier, so no reply is pending.
   */
  void forgetRemembered() {
    java.util.Arrays.fill(last, null);
  }

  /** A flush the guest kernel asked for while the current request runs (its tlbie sink). */
  void collect(HostFlush flush) {
    collected.add(flush);
  }

  /** Forgets the flushes collected so far (a request starts, or its core call came to nothing). */
  void clearCollected() {
    collected.clear();
  }

  /**
   * True when ({@code kind}, {@code requestId}) is the vCPU's remembered request: the remembered
   * reply goes to {@code replyTo}, after the flushes still in flight or owed.
   */
  boolean replayed(int vcpu, long requestId, Class<?> kind, ActorRef<?> replyTo) {
    Remembered r = last[vcpu];
    if (r == null || r.requestId != requestId || r.kind != kind) {
      return false;
    }
    if (r.pending != null) {
      r.pending.waiters.add(upcast(replyTo));
    } else if (r.onTimeout != null) {
      sendFlushesThenReply(r, List.of(), replyTo);
    } else {
      upcast(replyTo).tell(r.reply);
    }
    return true;
  }

  /** Replies at once to a request that never flushes; remembers it unless rejected. */
  <R> void answer(int vcpu, long requestId, long ea, Class<?> kind, R reply, ActorRef<R> replyTo) {
    if (!(reply instanceof Rejected)) {
      last[vcpu] = new Remembered(kind, requestId, vcpu, ea, reply, null);
    }
    replyTo.tell(reply);
  }

  /**
   * Replies once the host confirmed every flush collected while the core ran (and any owed ones);
   * remembers the request unless rejected. {@code onTimeout} builds the reply sent instead when the
   * host does not confirm in time.
   */
  <R> void answerAfterFlushes(
      int vcpu,
      long requestId,
      long ea,
      Class<?> kind,
      R reply,
      ActorRef<R> replyTo,
      Function<String, R> onTimeout) {
    List<HostFlush> flushes = new ArrayList<>(collected);
    collected.clear();
    Remembered r = new Remembered(kind, requestId, vcpu, ea, reply, onTimeout::apply);
    if (!(reply instanceof Rejected)) {
      last[vcpu] = r;
    }
    sendFlushesThenReply(r, flushes, replyTo);
  }

  /** The host confirmed tlbie {@code m.requestId()}; the last one of a request sends its reply. */
  void onTlbieDone(TlbieDone m) {
    PendingOp op = opByTlbie.remove(m.requestId());
    if (op == null) {
      log.debug("TlbieDone {} is late or unknown; ignored", m.requestId());
      return;
    }
    op.unacked.remove(m.requestId());
    if (op.unacked.isEmpty()) {
      timers.cancel(op.id);
      ops.remove(op.id);
      complete(op, op.request.reply);
    }
  }

  /**
   * The tlbie timeout of operation {@code opId} expired: its unconfirmed flushes become owed, a
   * warning is logged and the request gets its timeout reply.
   */
  void onTimedOut(long opId) {
    PendingOp op = ops.remove(opId);
    if (op == null) {
      return;
    }
    for (Long tlbie : op.unacked.keySet()) {
      opByTlbie.remove(tlbie);
    }
    owed.addAll(op.unacked.values());
    Remembered r = op.request;
    String why =
        "host tlbie: "
            + op.unacked.size()
            + " of "
            + op.total
            + " flushes unacknowledged after "
            + timeout.toMillis()
            + " ms; the guest HTAB change is made, retry request "
            + r.requestId
            + " to send them again";
    log.warn(
        "vCPU {} at ea 0x{}: {} {}: {}",
        r.vcpu,
        Long.toHexString(r.ea),
        r.kind.getSimpleName(),
        r.requestId,
        why);
    complete(op, r.onTimeout.apply(why));
  }

  private void sendFlushesThenReply(Remembered r, List<HostFlush> flushes, ActorRef<?> replyTo) {
    List<HostFlush> all = new ArrayList<>(owed);
    all.addAll(flushes);
    owed.clear();
    if (all.isEmpty()) {
      upcast(replyTo).tell(r.reply);
      return;
    }
    PendingOp op = new PendingOp(nextOpId++, r);
    op.waiters.add(upcast(replyTo));
    op.total = all.size();
    r.pending = op;
    ops.put(op.id, op);
    // The timer starts before the first HostTlbie leaves, so a test that saw one can advance time.
    timers.startSingleTimer(op.id, new GuestMmu.TlbieTimedOut(op.id), timeout);
    for (HostFlush f : all) {
      long id = nextTlbieId++;
      op.unacked.put(id, f);
      opByTlbie.put(id, op);
      host.tell(new HostTlbie(id, f, self));
    }
  }

  private static void complete(PendingOp op, Object reply) {
    if (op.request.pending == op) {
      op.request.pending = null;
    }
    for (ActorRef<Object> w : op.waiters) {
      w.tell(reply);
    }
  }

  @SuppressWarnings("unchecked")
  private static ActorRef<Object> upcast(ActorRef<?> ref) {
    return (ActorRef<Object>) ref;
  }
}
