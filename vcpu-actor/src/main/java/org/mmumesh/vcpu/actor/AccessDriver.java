package org.mmumesh.vcpu.actor;

import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.AccessRecorder;
import org.mmumesh.vcpu.FaultStep;
import org.mmumesh.vcpu.HostFault;
import org.mmumesh.vcpu.Need;
import org.mmumesh.vcpu.StoreBuffer;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.vcpu.actor.OutstandingRequest.Kind;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;
import org.mmumesh.vcpu.actor.VcpuWork.TraceOp;
import org.mmumesh.vcpu.actor.VcpuWork.TracePhase;
import org.slf4j.Logger;

/**
 * A {@link Vcpu}'s access loop and fault-step driver: it runs the batches' accesses through the
 * vCPU's {@link VcpuCore} and answers each of the core's needs by a message to a peer (the
 * sequential engine answers the same needs by calls), holding the access in progress, its fault's
 * lease and the segment-VSID cache. A plain class the actor owns (every method runs on the actor's
 * thread); it tells the actor which lifecycle state to be in by a {@link Next}. What it models,
 * step by step, is docs/design.md section 6 ("An access", "A fault", "TLB shootdowns").
 *
 * <p>In short: a TLB hit that permits the access completes with no message. On a miss the guest
 * VSID of the segment comes from the cache or {@link GuestMmu.EsidToVsid}; then {@link
 * HostMmu.Lookup}; a permitting hit fills the TLB, else the core classifies the exit, admits it
 * under the livelock bound and runs the fault handler, each non-terminal {@link FaultStep} one
 * request ({@code Xlate}, {@code GfnToPfnProt}, {@code UnmapPage}, {@code MapPage}); a reflected
 * exception goes to {@link GuestMmu.HandleException}. Every exit ends with a guest entry, where a
 * pending KVM_REQ_TLB_FLUSH ({@link HostLink#pendingFlush}) is sent as {@link HostMmu.FlushVcpu}
 * first.
 */
final class AccessDriver {

  /** What the actor does after a driver step: the lifecycle state to be in. */
  enum Next {
    /** Running: an access waits for a VSID, a lookup, a flush, the C bit or store-buffer room. */
    RUNNING,
    /** A fault step's reply is outstanding. */
    AWAITING_FAULT,
    /** No batch left. */
    IDLE,
    /** A Halt is due (at this access boundary). */
    HALT,
    /** Stay as it is. */
    SAME
  }

  /** Segments whose guest VSID is cached; the cache is emptied when it would grow beyond. */
  static final int ESID_CACHE_MAX = 4096;

  private static final long NONE = VcpuWork.NONE;

  private final int vm;
  private final int vcpu;
  private final int maxAttempts;
  private final VcpuCore core;
  private final Cpu64State cpu;
  private final StoreBuffer buffer;
  private final Long2LongOpenHashMap esidToGvsid;
  private final OutstandingRequest requests;
  private final StoreFlushes flushes;
  private final BatchQueue batches;
  private final TracedAccesses traces;
  private final HostLink link;
  private final PeerReplies replies;
  private final ActorRef<GuestMmu.Command> guest;
  private final ActorRef<HostMmu.Command> host;
  private final ActorRef<PageFrame.Command> frames;
  private final MeshEventBus events;
  private final Logger log;
  private final BooleanSupplier haltDue;

  // the recorder of the access in progress: null unless it is a traced one (one null check a step)
  private AccessRecorder rec;

  // the access in progress (null between accesses)
  private AccessOp op;
  private boolean forcedByFlush; // the next fault follows another's flush (LivelockBound)
  private boolean pfnCow; // the last fault of this access broke a COW (its own Q8 flush)
  private int staleLookups;
  private long lease = NONE;
  private long mapEa;
  private int mapPfn;
  private long unmapVpage;
  private long pfnGfn;

  // what waits for the FlushVcpu of a guest entry
  private Supplier<Next> afterFlush;

  /** A driver over the vCPU's {@code parts} (built last of them). */
  AccessDriver(
      int vm,
      int vcpu,
      int maxAttempts,
      VcpuParts parts,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      ActorRef<PageFrame.Command> frames,
      MeshEventBus events,
      Logger log,
      BooleanSupplier haltDue) {
    this.vm = vm;
    this.vcpu = vcpu;
    this.maxAttempts = maxAttempts;
    this.core = parts.core;
    this.cpu = parts.cpu;
    this.buffer = parts.buffer;
    this.esidToGvsid = parts.esidToGvsid;
    this.requests = parts.requests;
    this.flushes = parts.flushes;
    this.batches = parts.batches;
    this.traces = parts.traces;
    this.link = parts.link;
    this.replies = parts.replies;
    this.guest = guest;
    this.host = host;
    this.frames = frames;
    this.events = events;
    this.log = log;
    this.haltDue = haltDue;
  }

  /** Whether an access is in progress. */
  boolean inAccess() {
    return op != null;
  }

  /** The effective address of the access in progress, for log lines ("-" between accesses). */
  String where() {
    return op == null ? "-" : Long.toHexString(op.ea());
  }

  // ---- The access loop ------------------------------------------------------------------------

  /**
   * Executes accesses until one needs a reply, the batches run out, or a Halt is due; returns the
   * state to be in.
   */
  Next runLoop() {
    while (true) {
      TraceOp t = traces.current();
      if (t != null && t.phase.compareTo(TracePhase.EXECUTING) > 0) {
        return Next.RUNNING; // the traced access's last reads are in flight
      }
      if (haltDue.getAsBoolean()) {
        return Next.HALT;
      }
      Batch cur = batches.current();
      if (cur == null) {
        // Running --no batch left--> Idle
        return Next.IDLE;
      }
      if (cur.pos == cur.ops.size()) {
        finishBatch();
        continue;
      }
      if (link.pendingFlush) {
        // the start of a batch (the engine's quantum), or a KVM_REQ_TLB_FLUSH that arrived
        // mid-batch: kvm_flush_remote_tlbs kicked the vCPU out of the guest (an IPI), so the
        // request is processed at the very next guest entry, before another guest access
        return enterGuest(this::runLoop);
      }
      if (flushes.mustWaitForRoom()) {
        return Next.RUNNING;
      }
      AccessOp a = cur.ops.get(cur.pos);
      Need need = core.begin(a.kind(), a.ea(), link.knownEpoch());
      if (need instanceof Need.Hit h) {
        if (rec != null) {
          rec.tlbHit(h.pfn());
        }
        store(a, h.pfn());
        if (h.readC()) {
          op = a;
          return readC();
        }
        if (rec != null) {
          rec.completed();
        }
        cur.completed++;
        cur.pos++;
        continue;
      }
      op = a;
      forcedByFlush = false;
      pfnCow = false;
      staleLookups = 0;
      return answer(need);
    }
  }

  /** Runs the traced access {@code t} (its R/C before are read) as a one-access batch. */
  Next runTraced(TraceOp t) {
    rec = t.rec;
    batches.run(t.batch);
    return enterGuest(this::runLoop);
  }

  private void store(AccessOp a, int pfn) {
    if (a.kind() == Access.STORE) {
      buffer.add(pfn, (int) (a.ea() & 0xFFF), a.value());
    }
  }

  /**
   * Answers what the core needs next for the access in progress: the segment's guest VSID from the
   * cache or by {@link GuestMmu.EsidToVsid}, the HTAB search by {@link HostMmu.Lookup}; a hit
   * completes the access (after the C bit of a watched store), an exit runs the fault handler.
   */
  private Next answer(Need need) {
    if (need instanceof Need.SegmentVsid s) {
      if (link.pendingFlush) {
        // a flush requested while this access was under way (the guest VSID asked, a lookup
        // dropped): the vCPU was kicked out of the guest; it re-enters before the HTAB search
        forcedByFlush = !pfnCow;
        return enterGuest(() -> answer(core.miss())); // the same need, asked again
      }
      if (!esidToGvsid.containsKey(s.esid())) {
        requests.send(
            Kind.VSID, guest, id -> new GuestMmu.EsidToVsid(id, vcpu, s.esid(), replies.vsid));
        return Next.RUNNING;
      }
      return answer(core.onVsid(esidToGvsid.get(s.esid())));
    } else if (need instanceof Need.HostLookup l) {
      requests.send(
          Kind.LOOKUP, host, id -> new HostMmu.Lookup(id, vcpu, l.gvsid(), l.ea(), replies.lookup));
      return Next.RUNNING;
    } else if (need instanceof Need.Hit h) {
      if (rec != null) {
        rec.hostHpteHit(h.pfn());
      }
      store(op, h.pfn());
      return h.readC() ? readC() : accessCompleted();
    } else if (need instanceof Need.Fault f) {
      return fault(f.fault());
    }
    throw new IllegalStateException("unknown need " + need);
  }

  private void cacheGvsid(long esid, long gvsid) {
    if (esidToGvsid.size() >= ESID_CACHE_MAX && !esidToGvsid.containsKey(esid)) {
      esidToGvsid.clear();
    }
    esidToGvsid.put(esid, gvsid);
  }

  /**
   * A store completed through a TLB entry of a watched page ({@code CBitWatch}, Q4): read the guest
   * C bit now ({@link GuestMmu.ReadRc}), as the sequential engine does, before the access counts as
   * completed.
   */
  private Next readC() {
    long ea = op.ea();
    requests.send(Kind.RC, guest, id -> new GuestMmu.ReadRc(id, vcpu, ea, replies.rc));
    return Next.RUNNING;
  }

  private Next accessCompleted() {
    releaseLease();
    if (rec != null) {
      rec.completed();
    }
    Batch cur = batches.current();
    cur.completed++;
    cur.pos++;
    op = null;
    return runLoop();
  }

  private Next failAccess(String cause) {
    failCurrent(cause);
    return runLoop();
  }

  private void failCurrent(String cause) {
    releaseLease();
    if (rec != null) {
      rec.failed(cause);
    }
    recordFailure(batches.current(), op, cause);
    batches.current().pos++;
    op = null;
  }

  private void recordFailure(Batch cur, AccessOp a, String cause) {
    String text = core.fail(vm, vcpu, a.kind(), a.ea(), cause);
    cur.failed++;
    if (cur.failures.size() < VcpuProtocol.MAX_FAILURES_KEPT) {
      cur.failures.add(text);
    }
  }

  /** The current batch is over: BatchDone once its stores are applied. */
  private void finishBatch() {
    Batch b = batches.finish();
    if (b.trace && traces.current() != null) {
      rec = null;
      traces.current().phase = TracePhase.STORES;
    }
    flushes.doneAfterStores(b);
  }

  /**
   * The vCPU halts (the driver's part of Halt): an access whose store was done and only its C bit
   * outstanding ({@code storeDone}) completes, any other in progress fails, and so does every
   * access not executed yet; the fault's lease is released.
   */
  void halt(boolean storeDone) {
    if (storeDone && op != null) {
      if (rec != null) {
        rec.completed();
      }
      batches.current().completed++;
      batches.current().pos++;
      op = null;
    }
    afterFlush = null;
    flushes.stopWaitingForRoom();
    core.resetFault();
    releaseLease();
    if (op != null) {
      failCurrent("halted during the access");
    }
    for (Batch cur = batches.current(); cur != null; cur = batches.current()) {
      while (cur.pos < cur.ops.size()) {
        recordFailure(cur, cur.ops.get(cur.pos++), "halted before the access ran");
      }
      finishBatch();
    }
    rec = null;
  }

  // ---- Guest entries --------------------------------------------------------------------------

  /** Guest entry: a pending KVM_REQ_TLB_FLUSH is processed first (spec 5.7). */
  Next enterGuest(Supplier<Next> next) {
    if (!link.pendingFlush) {
      return next.get();
    }
    link.pendingFlush = false;
    sendFlush(next);
    return Next.RUNNING;
  }

  /** Sends {@link HostMmu.FlushVcpu}; {@code next} runs when it is answered or given up. */
  void sendFlush(Supplier<Next> next) {
    afterFlush = next;
    requests.send(Kind.FLUSH, host, id -> new HostMmu.FlushVcpu(id, vcpu, replies.flush));
  }

  /** The guest entry's flush is done (or not: refused or timed out): what waited for it. */
  Next afterFlush() {
    Supplier<Next> next = afterFlush;
    afterFlush = null;
    return next.get();
  }

  // ---- Faults ---------------------------------------------------------------------------------

  private Next fault(HostFault f) {
    String livelocked = core.admit(forcedByFlush);
    forcedByFlush = false;
    pfnCow = false;
    if (livelocked != null) {
      return failAccess(livelocked);
    }
    if (events.wants(MeshEvent.Kind.FAULT, vm)) {
      events.publish(
          new MeshEvent(
              MeshEvent.Kind.FAULT,
              MeshEvent.NONE,
              vm,
              vcpu,
              f.ea(),
              MeshEvent.NONE,
              MeshEvent.NONE,
              VcpuCore.exitName(f) + " " + f.access().name().toLowerCase(Locale.ROOT)));
    }
    if (rec != null) {
      rec.fault(f);
    }
    return step(() -> core.onFault(f, cpu));
  }

  /** Runs one core call of the fault handler and acts on the step it returns. */
  private Next step(Supplier<FaultStep> call) {
    FaultStep s;
    try {
      s = call.get();
    } catch (RuntimeException e) {
      log.error(
          "vm {} vcpu {} at ea 0x{}: the fault handler failed",
          vm,
          vcpu,
          Long.toHexString(op.ea()),
          e);
      return abortFault("fault handler failed: " + e);
    }
    if (s instanceof FaultStep.Xlate x) {
      requests.send(
          Kind.XLATE,
          guest,
          id -> new GuestMmu.Xlate(id, vcpu, x.ea(), x.access(), x.relocated(), replies.xlate));
    } else if (s instanceof FaultStep.GfnToPfn g) {
      pfnGfn = g.gfn();
      requests.send(
          Kind.PFN,
          frames,
          id -> new PageFrame.GfnToPfnProt(id, vm, vcpu, g.gfn(), g.writeFault(), replies.pfn));
    } else if (s instanceof FaultStep.UnmapPage u) {
      unmapVpage = u.pte().vpage();
      requests.send(
          Kind.UNMAP,
          host,
          id -> new HostMmu.UnmapPage(id, vcpu, u.pte(), u.vsid64k(), replies.unmap));
    } else if (s instanceof FaultStep.MapPage m) {
      mapEa = m.pte().eaddr();
      mapPfn = m.pfn();
      requests.send(
          Kind.MAP,
          host,
          id ->
              new HostMmu.MapPage(
                  id, vcpu, m.pte(), m.gvsid(), m.pfn(), m.writable(), m.guardSeq(), replies.map));
    } else if (s instanceof FaultStep.Reflect r) {
      releaseLease();
      if (rec != null) {
        rec.reflected(r);
      }
      // the guest is entered (a pending flush processed) before its kernel takes the interrupt
      return enterGuest(() -> reflect(r));
    } else if (s instanceof FaultStep.MmioExit mmio) {
      releaseLease();
      if (rec != null) {
        rec.mmio(mmio.paddr());
      }
      return enterGuest(this::accessCompleted);
    } else if (s instanceof FaultStep.Resume) {
      // the lease (and its page reference) is kept through the retry: see releaseLease
      // AwaitingFault --Resume--> Running (retry the access); a flush served at this entry that
      // the fault did not request itself (no COW break) forces the retry to fault again
      forcedByFlush = link.pendingFlush && !pfnCow;
      return enterGuest(() -> answer(core.miss()));
    } else if (s instanceof FaultStep.Failed f) {
      releaseLease();
      return enterGuest(() -> failAccess(f.cause()));
    }
    // Running --HostFault--> AwaitingFault
    return Next.AWAITING_FAULT;
  }

  /** Delivers a reflected interrupt to the guest kernel model. */
  private Next reflect(FaultStep.Reflect r) {
    long ea = op.ea();
    requests.send(
        Kind.EXCEPTION,
        guest,
        id ->
            new GuestMmu.HandleException(
                id, vcpu, r.vector(), r.dsisr(), r.msrBits(), ea, replies.exception));
    return Next.AWAITING_FAULT;
  }

  private Next abortFault(String cause) {
    core.resetFault();
    releaseLease();
    return failAccess(cause);
  }

  /**
   * Releases the fault's memslot lease and with it the page reference of its {@code GfnToPfnProt}
   * answer ({@code srcu_read_unlock}, {@code kvm_release_pfn_clean}). After a {@code Resume} it is
   * released only once the retried access has executed or failed, or when the answer of its next
   * fault's {@code GfnToPfnProt} replaces it: the kernel's guest retries nanoseconds after the map,
   * before ksmd could write-protect the page, and holding the reference through the retry's round
   * trips is what keeps ksmd off the page here ({@code PageFrame}'s {@code FaultPageRefs}); without
   * it a wall-clock ksmd re-merged a COW copy before the store that broke it, again and again.
   */
  private void releaseLease() {
    if (lease != NONE) {
      frames.tell(new PageFrame.ReleaseLease(vm, lease));
      lease = NONE;
    }
  }

  // ---- Replies: each answers the outstanding request of its id, else it is late ---------------

  /** A late or duplicate reply: ignored, but a lease it carries is released. */
  Next stale(Object r) {
    if (r instanceof PageFrame.PfnAnswered p && p.lease() != lease) {
      frames.tell(new PageFrame.ReleaseLease(vm, p.lease()));
    }
    log.debug("vm {} vcpu {}: late reply ignored: {}", vm, vcpu, r);
    return Next.SAME;
  }

  Next onVsid(PeerReplies.VsidReplied r) {
    if (!(r.reply() instanceof GuestMmu.VsidOf v)
        || !requests.answeredBy(Kind.VSID, v.requestId())) {
      return stale(r.reply());
    }
    cacheGvsid(op.ea() >>> 28, v.gvsid());
    return answer(core.miss());
  }

  Next onLookedUp(PeerReplies.LookupReplied r) {
    if (!(r.reply() instanceof HostMmu.LookedUp l)
        || !requests.answeredBy(Kind.LOOKUP, l.requestId())) {
      return stale(r.reply());
    }
    if (link.pendingFlush) {
      // a flush was requested after the lookup went out: the HostMmu keeps this vCPU's old HPTEs
      // until its FlushVcpu (Q8), so the reply may name a frame since merged and freed; it is
      // dropped, and the access looks up again after the guest entry (its VSID need flushes first)
      link.noteEpoch(l.epoch());
      return answer(core.miss());
    }
    if (!link.noteEpoch(l.epoch())) {
      if (++staleLookups > maxAttempts) {
        return failAccess(
            "lookup: " + staleLookups + " replies older than epoch " + link.knownEpoch());
      }
      return answer(core.miss());
    }
    return answer(core.onLookup(l.slot(), l.protection(), l.pfn(), link.knownEpoch()));
  }

  /** The guest C bit of a watched store. */
  Next onRcRead(GuestMmu.RcOf rc) {
    core.onCRead(true, rc.c(), link.knownEpoch());
    return accessCompleted();
  }

  Next onTranslated(PeerReplies.XlateReplied r) {
    if (!(r.reply() instanceof GuestMmu.Translated t)
        || !requests.answeredBy(Kind.XLATE, t.requestId())) {
      return stale(r.reply());
    }
    cacheGvsid(op.ea() >>> 28, t.gvsid());
    if (rec != null) {
      rec.xlate(t.result());
    }
    return step(() -> core.onXlated(t.result(), t.gvsid()));
  }

  Next onPfn(PeerReplies.PfnReplied r) {
    if (!(r.reply() instanceof PageFrame.PfnAnswered p)
        || !requests.answeredBy(Kind.PFN, p.requestId())) {
      return stale(r.reply());
    }
    releaseLease(); // the previous fault's of this access, kept through its retry
    lease = p.lease();
    pfnCow = p.result().cow();
    if (rec != null) {
      rec.gfnToPfn(pfnGfn, p.result());
    }
    return step(() -> core.onPfn(p.result()));
  }

  Next onUnmapped(PeerReplies.UnmapReplied r) {
    if (!(r.reply() instanceof HostMmu.Unmapped u)
        || !requests.answeredBy(Kind.UNMAP, u.requestId())) {
      return stale(r.reply());
    }
    link.noteEpoch(u.epoch());
    if (rec != null) {
      rec.unmapped(unmapVpage);
    }
    return step(core::onUnmapped);
  }

  Next onMapped(PeerReplies.MapReplied r) {
    if (!(r.reply() instanceof HostMmu.Mapped m) || !requests.answeredBy(Kind.MAP, m.requestId())) {
      return stale(r.reply());
    }
    link.noteEpoch(m.epoch());
    if (rec != null) {
      rec.mapped(mapPfn, m.installed(), m.readOnly());
    }
    return step(() -> core.onMapped(m.installed(), m.readOnly(), m.markDirty(), mapEa));
  }

  Next onExceptionHandled(PeerReplies.ExceptionReplied r) {
    if (!(r.reply() instanceof GuestMmu.ExceptionHandled e)
        || !requests.answeredBy(Kind.EXCEPTION, e.requestId())) {
      return stale(r.reply());
    }
    if (e.segmentsChanged()) {
      esidToGvsid.clear();
    }
    if (e.retry()) {
      // AwaitingFault --ExceptionHandled(retry)--> Running (the guest was entered before the
      // interrupt was delivered; a flush requested since is processed here)
      return enterGuest(() -> answer(core.miss()));
    }
    return failAccess(e.failure() == null ? "the guest kernel gave up" : e.failure());
  }

  /**
   * A peer refused the outstanding request of the access path, of {@code kind} ({@code rejected}:
   * bad input or missing state; else the peer failed): the access fails, except that a refused C
   * bit read completes it (a rejected one means no guest HPTE translates the address now) and a
   * refused flush lets the guest entry go on.
   */
  Next refused(Kind kind, boolean rejected, String why) {
    return switch (kind) {
      case XLATE, PFN, UNMAP, MAP -> abortFault(why);
      case FLUSH -> {
        log.warn("vm {} vcpu {}: FlushVcpu not done: {}", vm, vcpu, why);
        yield afterFlush();
      }
      case RC -> {
        if (rejected) {
          core.onCRead(false, false, link.knownEpoch()); // no guest HPTE translates ea now
        } else {
          log.warn("vm {} vcpu {}: C bit not read: {}", vm, vcpu, why);
        }
        yield accessCompleted();
      }
      default -> failAccess(why); // VSID, LOOKUP, EXCEPTION
    };
  }

  /**
   * The outstanding request of the access path, of {@code kind}, was given up after its last
   * attempt: the access fails (the fault is abandoned), except that a C bit read completes it (the
   * store is done; only the missed-C count is unknown) and a flush lets the guest entry go on.
   */
  Next timedOut(Kind kind, String why) {
    return switch (kind) {
      case VSID, LOOKUP -> failAccess(why);
      case RC -> accessCompleted();
      case FLUSH -> afterFlush();
      default -> abortFault(why); // XLATE, PFN, UNMAP, MAP, EXCEPTION
    };
  }
}
