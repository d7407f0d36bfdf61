package org.mmumesh.vcpu.actor;

import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.CBitWatch;
import org.mmumesh.vcpu.PageFaultHandler;
import org.mmumesh.vcpu.StoreBuffer;
import org.mmumesh.vcpu.Tlb;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.VcpuProtocol.AccessTraced;
import org.mmumesh.vcpu.actor.VcpuProtocol.BatchDone;
import org.mmumesh.vcpu.actor.VcpuProtocol.Command;
import org.mmumesh.vcpu.actor.VcpuProtocol.StateSet;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;

/**
 * The plain parts of one {@link Vcpu}, built and wired once when the actor starts, fresh or from
 * the state it parked ({@link Parked}, kept by {@link VcpuParking}): the pure {@link VcpuCore} with
 * its TLB and C-bit watch, the segment-VSID cache, the store buffer and its {@link StoreFlushes},
 * the {@link HostLink}, the {@link OutstandingRequest}, the {@link BatchQueue}, the {@link
 * StateChanges} and {@link TracedAccesses}, the {@link AccessDriver} over them, and {@link
 * Halting}. Every part runs on the actor's thread.
 */
final class VcpuParts {

  /** What a parked vCPU keeps on its node ({@link VcpuParking}); the TLB compactly. */
  record Parked(
      VcpuState state,
      int mode,
      long knownEpoch,
      boolean pendingFlush,
      Counts counters,
      Tlb.Snapshot tlb,
      CBitWatch cWatch,
      Long2LongOpenHashMap esidToGvsid,
      long lastAcceptedBatchId,
      BatchDone lastDone,
      StateSet lastStateSet,
      AccessTraced lastTraced,
      Batch cur,
      List<Batch> queue) {}

  final PeerReplies replies;
  final Tlb tlb;
  final CBitWatch cWatch;
  final VcpuCore core;
  final Cpu64State cpu = new Cpu64State();
  final Long2LongOpenHashMap esidToGvsid;
  final StoreBuffer buffer;
  final HostLink link;
  final OutstandingRequest requests;
  final StoreFlushes flushes;
  final BatchQueue batches;
  final StateChanges states;
  final TracedAccesses traces;
  final AccessDriver driver;
  final Halting halting;

  /**
   * @param p the parked state to continue from, or null
   * @param tick the actor's timeout tick message
   * @param sendDone answers a batch whose stores are applied
   * @param takeMode applies a SetState's new mode
   */
  VcpuParts(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Command tick,
      VcpuSetup setup,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      ActorRef<PageFrame.Command> frames,
      ActorRef<PageFrame.ApplyStores> stores,
      Parked p,
      Consumer<Batch> sendDone,
      IntConsumer takeMode) {
    int vm = setup.vm();
    int vcpu = setup.vcpu();
    replies = new PeerReplies(ctx);
    tlb = p == null ? new Tlb(setup.tlbEntries()) : Tlb.restored(setup.tlbEntries(), p.tlb());
    cWatch = p == null ? new CBitWatch() : p.cWatch();
    core =
        new VcpuCore(
            tlb,
            cWatch,
            new PageFaultHandler(setup.options()),
            setup.maxFaultsPerAccess(),
            p == null ? Counts.zero() : p.counters());
    esidToGvsid = p == null ? new Long2LongOpenHashMap() : p.esidToGvsid();
    link =
        new HostLink(
            vcpu,
            host,
            replies.shootdowns,
            p == null ? 0 : p.knownEpoch(),
            p != null && p.pendingFlush());
    buffer = new StoreBuffer(setup.storeBufferCapacity());
    // request ids start at a per-incarnation base: a restarted vCPU is never answered from the
    // other actors' memory of its previous incarnation
    long idBase = ((long) (ctx.getSelf().path().uid() & 0x7FFFFFFF)) << 32;
    requests =
        new OutstandingRequest(
            timers,
            tick,
            setup.tickInterval(),
            setup.requestTimeout(),
            setup.maxAttempts(),
            idBase);
    flushes =
        new StoreFlushes(
            vm,
            vcpu,
            idBase,
            setup.maxAttempts(),
            buffer,
            stores,
            replies.stores,
            core,
            ctx.getLog(),
            requests::deadline,
            sendDone);
    batches = new BatchQueue(flushes);
    states = new StateChanges(vcpu, requests, guest, host, replies, link, takeMode);
    traces = new TracedAccesses(vm, vcpu, requests, guest, frames, replies);
    if (p != null) {
      core.setMode(p.mode());
      batches.restore(p.lastAcceptedBatchId(), p.lastDone(), p.cur(), p.queue());
      states.restore(p.lastStateSet());
      traces.restore(p.lastTraced());
    }
    halting = new Halting(this); // uses the driver only once the actor runs
    driver =
        new AccessDriver(
            vm,
            vcpu,
            setup.maxAttempts(),
            this,
            guest,
            host,
            frames,
            MeshEventBus.of(ctx.getSystem()),
            ctx.getLog(),
            halting::due);
    traces.drivenBy(driver);
  }

  /** Whether nothing is in flight: no request, access, store flush, state change or trace. */
  boolean quiet() {
    return requests.kind() == null
        && !driver.inAccess()
        && flushes.quiet()
        && !states.inProgress()
        && traces.current() == null;
  }

  /** What the vCPU keeps when it parks in {@code state} with {@code mode}. */
  Parked parked(VcpuState state, int mode) {
    esidToGvsid.trim();
    long epoch = link.knownEpoch();
    return new Parked(
        state,
        mode,
        epoch,
        link.pendingFlush,
        core.counts(),
        tlb.snapshot(epoch),
        cWatch,
        esidToGvsid,
        batches.lastAcceptedBatchId(),
        batches.lastDone(),
        states.last(),
        traces.last(),
        batches.running(),
        batches.queued());
  }
}
