package org.mmumesh.vcpu.actor;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.Counter;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.StoreBuffer;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.vcpu.actor.VcpuProtocol.BatchDone;
import org.mmumesh.vcpu.actor.VcpuProtocol.BatchReply;
import org.mmumesh.vcpu.actor.VcpuProtocol.StoresApplied;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;
import org.mmumesh.vcpu.actor.VcpuWork.WaitingAck;
import org.mmumesh.vcpu.actor.VcpuWork.WaitingDone;
import org.slf4j.Logger;

/**
 * A {@link Vcpu}'s store buffer against the page frames and its ordering against TLB shootdowns
 * ("TLB shootdowns" in docs/design.md section 6): the buffered stores go out as one {@link
 * PageFrame.ApplyStores} at a time, numbered by a flush sequence; a shootdown's ack and a batch's
 * {@code BatchDone} wait until every store made before them is applied ({@code tlbie; tlbsync}
 * after the stores: the HostMmu, and a KSM write-protect behind it, must see the contents). A flush
 * past its deadline (in the vCPU's ticks) is sent again with the same id, at most {@code
 * maxAttempts} times in all; then its stores are counted lost. Plain state the actor owns: every
 * method runs on the actor's thread.
 *
 * <p>Loads need no content (they are counted). A store through a writable host mapping is buffered
 * (pfn, offset, value) in program order and sent as one {@link PageFrame.ApplyStores} when the
 * buffer is full, at the end of each batch, at Halt, and before any TlbShootdown is acknowledged;
 * one {@code ApplyStores} is in flight at a time, timed out and retried like any request. {@link
 * BatchDone} is sent only after every store of the batch was applied ({@link StoresApplied}), so a
 * client that saw it sees the contents. <b>The page frames must process {@code ApplyStores} at
 * once, even during a notifier round</b>: a KSM write-protect waits on the HostMmu's shootdown,
 * which waits on the vCPU's ack, which waits on {@code StoresApplied}. Created without a store
 * sink, the vCPU counts stores as lost ({@code storesLost}).
 */
final class StoreFlushes {

  /**
   * The request-id bit of store flushes ({@code ApplyStores}): ids are {@code idBase | n}, other
   * requests counting {@code n} up from 1 below this bit, flushes {@code FLUSH_IDS | seq}.
   */
  static final long FLUSH_IDS = 1L << 31;

  private final int vm;
  private final int vcpu;
  private final long idBase;
  private final int maxAttempts;
  private final StoreBuffer buffer;
  private final ActorRef<PageFrame.ApplyStores> stores;
  private final ActorRef<PageFrame.StoresReply> storesApplied;
  private final VcpuCore core;
  private final Logger log;
  private final LongSupplier deadline;
  private final Consumer<Batch> sendDone;

  private long nextFlushSeq = 1;
  private long appliedUpTo;
  private long wantedSeq;
  private PageFrame.ApplyStores inFlight;
  private long inFlightSeq;
  private int flushAttempts;
  private long flushDeadline;
  private boolean waitingForRoom;
  private final ArrayDeque<WaitingAck> acks = new ArrayDeque<>();
  private final ArrayDeque<WaitingDone> dones = new ArrayDeque<>();

  /**
   * @param deadline the tick deadline of a request sent now (starts the vCPU's tick if needed)
   * @param sendDone answers a batch whose stores are applied ({@code BatchDone})
   */
  StoreFlushes(
      int vm,
      int vcpu,
      long idBase,
      int maxAttempts,
      StoreBuffer buffer,
      ActorRef<PageFrame.ApplyStores> stores,
      ActorRef<PageFrame.StoresReply> storesApplied,
      VcpuCore core,
      Logger log,
      LongSupplier deadline,
      Consumer<Batch> sendDone) {
    this.vm = vm;
    this.vcpu = vcpu;
    this.idBase = idBase;
    this.maxAttempts = maxAttempts;
    this.buffer = buffer;
    this.stores = stores;
    this.storesApplied = storesApplied;
    this.core = core;
    this.log = log;
    this.deadline = deadline;
    this.sendDone = sendDone;
  }

  /**
   * The flush sequence after which every store made so far is applied (0: already), starting a
   * flush if none is in flight.
   */
  long barrier() {
    if (!buffer.isEmpty()) {
      if (inFlight != null) {
        wantedSeq = Math.max(wantedSeq, nextFlushSeq);
        return nextFlushSeq;
      }
      startFlush();
    }
    return inFlight == null ? 0 : inFlightSeq;
  }

  /** Acks shootdown {@code epoch} once every store made so far is applied (at once if so). */
  void ackAfterStores(long epoch, ActorRef<HostMmu.TlbShootdownAck> ack) {
    long seq = barrier();
    if (seq == 0) {
      ack.tell(new HostMmu.TlbShootdownAck(vcpu, epoch));
    } else {
      acks.add(new WaitingAck(seq, epoch, ack));
    }
  }

  /** Answers batch {@code b} once every store made so far is applied (at once if so). */
  void doneAfterStores(Batch b) {
    long seq = barrier();
    if (seq == 0) {
      sendDone.accept(b);
    } else {
      dones.add(new WaitingDone(seq, b));
    }
  }

  /** Joins a repeated RunBatch to a batch waiting for its stores; false when none has its id. */
  boolean joinWaiting(long batchId, ActorRef<BatchReply> replyTo) {
    for (WaitingDone w : dones) {
      if (w.batch().batchId == batchId) {
        w.batch().replyTos.add(replyTo);
        return true;
      }
    }
    return false;
  }

  /**
   * Before an access that may store: true when the buffer is full and a flush is in flight (the
   * access loop waits for room, {@link #roomMade}); a full buffer with none in flight is sent now.
   */
  boolean mustWaitForRoom() {
    if (buffer.isFull()) {
      if (inFlight != null) {
        waitingForRoom = true;
        return true;
      }
      startFlush();
    }
    return false;
  }

  /** The access loop no longer waits for room (Halt). */
  void stopWaitingForRoom() {
    waitingForRoom = false;
  }

  /** After a flush ended: true (once) when the access loop waited for room and may run again. */
  boolean roomMade(boolean running) {
    if (waitingForRoom && running) {
      waitingForRoom = false;
      return true;
    }
    return false;
  }

  /** Nothing buffered, in flight or waiting for a flush (the vCPU may park). */
  boolean quiet() {
    return inFlight == null && buffer.isEmpty() && acks.isEmpty() && dones.isEmpty();
  }

  /** A flush is in flight (the vCPU's tick must run). */
  boolean inFlight() {
    return inFlight != null;
  }

  /** Sends the buffer as one ApplyStores (none may be in flight). */
  private void startFlush() {
    long seq = nextFlushSeq++;
    StoreBuffer.Drained d = buffer.drain();
    inFlight =
        new PageFrame.ApplyStores(
            idBase | FLUSH_IDS | seq, vm, vcpu, d.pfns(), d.offsets(), d.values(), storesApplied);
    inFlightSeq = seq;
    flushAttempts = 1;
    stores.tell(inFlight);
    flushDeadline = deadline.getAsLong();
  }

  /** The page frames' answer; true when it ended the flush in flight (see {@link #roomMade}). */
  boolean applied(StoresApplied m) {
    if (inFlight == null || m.requestId() != inFlight.requestId()) {
      return false;
    }
    core.count(Counter.STORE_FLUSHES);
    int refused = m.refused() < 0 ? inFlight.pfns().length : m.refused();
    if (refused > 0) {
      core.count(Counter.STORES_LOST, refused);
      log.warn("vm {} vcpu {}: {} stores refused by the page frames", vm, vcpu, refused);
    }
    flushDone();
    return true;
  }

  /** What a tick did to the flush in flight ({@link #checkDeadline}). */
  enum Deadline {
    /** None in flight, or not yet due. */
    NOT_DUE,
    /** Past its deadline: sent again with the same id. */
    RESENT,
    /** Past its deadline after {@code maxAttempts}: its stores are lost, the flush ended. */
    GIVEN_UP
  }

  /** At tick {@code ticks}: a flush past its deadline is sent again, or its stores given up. */
  Deadline checkDeadline(long ticks) {
    if (inFlight == null || ticks < flushDeadline) {
      return Deadline.NOT_DUE;
    }
    core.count(Counter.TIMEOUTS);
    if (flushAttempts < maxAttempts) {
      flushAttempts++;
      core.count(Counter.RETRIES);
      stores.tell(inFlight);
      flushDeadline = deadline.getAsLong();
      return Deadline.RESENT;
    }
    core.count(Counter.STORES_LOST, inFlight.pfns().length);
    log.error(
        "vm {} vcpu {}: ApplyStores {} ({} stores) unanswered after {} attempts; the stores are"
            + " lost",
        vm,
        vcpu,
        inFlight.requestId(),
        inFlight.pfns().length,
        flushAttempts);
    flushDone();
    return Deadline.GIVEN_UP;
  }

  /** The flush in flight is over: release what waited for it, chain the next flush if wanted. */
  private void flushDone() {
    appliedUpTo = inFlightSeq;
    inFlight = null;
    for (Iterator<WaitingAck> it = acks.iterator(); it.hasNext(); ) {
      WaitingAck w = it.next();
      if (w.seq() <= appliedUpTo) {
        w.ack().tell(new HostMmu.TlbShootdownAck(vcpu, w.epoch()));
        it.remove();
      }
    }
    for (Iterator<WaitingDone> it = dones.iterator(); it.hasNext(); ) {
      WaitingDone w = it.next();
      if (w.seq() <= appliedUpTo) {
        sendDone.accept(w.batch());
        it.remove();
      }
    }
    if (!buffer.isEmpty() && (wantedSeq > appliedUpTo || waitingForRoom)) {
      startFlush();
    }
  }
}
