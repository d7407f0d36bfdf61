package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmumesh.checkpoint.v1.EngineCheckpoint;
import org.mmumesh.checkpoint.v1.EngineVmState;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.Quirk;
import org.mmumesh.guestmmu.Guest32;
import org.mmumesh.guestmmu.Guest64;
import org.mmumesh.guestmmu.GuestHtab;
import org.mmumesh.guestmmu.GuestKernel;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.HostMmuStats;
import org.mmumesh.hostmmu.MapResult;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.SidMapToggle;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.FaultPageRefs;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.vcpu.FaultStep;
import org.mmumesh.vcpu.HostFault;
import org.mmumesh.vcpu.Need;
import org.mmumesh.vcpu.PageFaultHandler;
import org.mmumesh.vcpu.Tlb;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ResumableSource;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The sequential engine (architecture section 3): every core driven from one thread in a fixed
 * order, so a run is a pure function of its workload (and seed) and its configuration. It is the
 * reference the actor mesh is checked against, and the fastest single-node mode.
 *
 * <p><b>Order.</b> vCPUs run round-robin, {@code quantum} accesses each; between rounds, KSM runs
 * every batch that is due by the simulated clock. A vCPU processes a pending KVM_REQ_TLB_FLUSH
 * (spec 5.7: {@code kvmppc_prepare_to_enter -> kvmppc_core_check_requests -> pte_flush(vcpu, 0, 0)}
 * "before its next guest entry") whenever it (re-)enters the guest: at the start of its quantum and
 * after every exit, whatever the exit's outcome (retry, MMIO, reflected interrupt, failure). An
 * MMU-notifier event under Q8 only sets the request ({@link
 * HostMmuCore#notifierFullFlushRequested}).
 *
 * <p><b>SID-map toggle.</b> Shared by all VMs (the kernel's host-global {@code backwards_map}), or
 * one per VM with {@link EngineConfig.SidToggleScope#PER_VM} to match the actor mesh.
 *
 * <p><b>An access.</b> A TLB hit that permits the access completes at once. Otherwise the host HTAB
 * is searched (the hardware); a hit fills the TLB, a miss or a protection mismatch is an exit that
 * runs {@link PageFaultHandler} against the cores, and reflected exceptions go to the {@link
 * GuestKernel} model. An access that faults more than {@code maxFaultsPerAccess} times is reported
 * failed (spec section 10's livelock bound). Loads and stores go to the frame the host HPTE names.
 * Every decision and count of that path is {@link VcpuCore}'s, the same core the actor mesh's vCPU
 * drives: this engine only answers each of its needs synchronously, by calling the other cores.
 *
 * <p><b>Clock.</b> The simulated clock is {@link SimClock}'s function of the vCPUs' counters and
 * the COW breaks of the run, the mesh's formula too.
 */
public final class SequentialEngine {
  private static final int BATCH = 256;

  private final WorkloadSpec spec;
  private final EngineConfig cfg;
  private final PageFrames frames;
  // the page reference of the fault in flight (holder 0): ksmd never runs inside a fault here,
  // so it changes no outcome; kept so both engines model the same reference (FaultPageRefs)
  private final FaultPageRefs pageRefs;
  private final KsmScanner ksm;
  private final VmRuntime[] vms;
  private final List<VcpuRuntime> vcpus = new ArrayList<>();
  private final List<KsmSample> samples = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private final InvariantChecker checker;
  private long cowBreaksAtStart = -1;
  private final long[] clockScratch = new long[Counter.COUNT];
  private long lease = -1;
  private long expectedAccesses;

  /** The run's schedule: null before {@link #start()}. */
  private LockstepSchedule schedule;

  private boolean ended;
  private long done;
  private long reported;

  /** Receives progress: accesses done so far, and the expected total (or -1 if unknown). */
  @FunctionalInterface
  public interface Progress {
    void update(long done, long total);
  }

  /**
   * Builds the host, the VMs and their vCPUs, loads the boot image and marks guest memory
   * mergeable.
   *
   * @throws IllegalArgumentException when the configuration does not fit the workload (for example
   *     a 32-bit host with a 64-bit guest)
   */
  public SequentialEngine(WorkloadSpec spec, EngineConfig cfg) {
    this(spec, cfg, null);
  }

  /**
   * An engine continuing from {@code checkpoint} (taken by {@link #checkpoint()} on an engine of
   * the same workload and configuration): every core's state and the engine's own are put back, so
   * {@link #run} finishes the run exactly as the engine the checkpoint was taken from would have.
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the field when the checkpoint
   *     does not fit {@code spec} and {@code cfg} or is inconsistent (its format version, the
   *     configuration, the shape, any core's state); no engine is returned then
   */
  public static SequentialEngine restore(
      WorkloadSpec spec, EngineConfig cfg, EngineCheckpoint checkpoint) {
    EngineCheckpoints.checkFits(spec, cfg, checkpoint);
    return new SequentialEngine(spec, cfg, checkpoint);
  }

  private SequentialEngine(WorkloadSpec spec, EngineConfig cfg, EngineCheckpoint cp) {
    if (cfg.host32() && spec.mmu() == MmuKind.BOOK3S_64) {
      throw new IllegalArgumentException(
          "host: a 64-bit guest cannot run on a 32-bit host (spec section 10); allowed: a 64-bit"
              + " host, or a 32-bit guest (mmu=32)");
    }
    this.spec = spec;
    this.cfg = cfg;
    if (cp == null) {
      this.frames = new PageFrames();
      this.ksm = new KsmScanner(frames);
      ksm.setPagesToScan(cfg.ksmPagesToScan());
      ksm.setSleepMillisecs(cfg.ksmSleepMillisecs());
      ksm.setRun(KsmScanner.RUN_MERGE);
    } else {
      this.frames = PageFrames.restore(cp.getPageFrames());
      this.ksm = KsmScanner.restore(cp.getKsm(), frames);
    }
    this.pageRefs = new FaultPageRefs(frames);
    this.vms = new VmRuntime[spec.vms()];
    // the host-wide toggle (the kernel's backwards_map); restored from any VM's copy of it
    SidMapToggle toggle =
        cp == null
            ? new SidMapToggle()
            : SidMapToggle.restore(cp.getVms(0).getHostMmu().getSidMapToggle());
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    boolean fullFlush = cfg.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH);
    for (int vm = 0; vm < spec.vms(); vm++) {
      vms[vm] =
          createVm(
              vm,
              layout,
              cfg.sidToggle() == EngineConfig.SidToggleScope.HOST ? toggle : null,
              fullFlush,
              cp == null ? null : cp.getVms(vm));
    }
    frames.addNotifierListener(this::onNotifier);
    this.checker = cfg.checkInvariants() ? new InvariantChecker(frames, ksm, vms) : null;
    if (cp != null) {
      schedule = LockstepSchedule.of(vms.length, spec.vcpusPerVm(), cfg);
      EngineCheckpoints.Engine own = EngineCheckpoints.readEngine(cp, schedule);
      samples.addAll(own.samples());
      failures.addAll(own.failures());
      cowBreaksAtStart = own.cowBreaksAtStart();
      done = own.accessesDone();
      reported = done;
      if (checker != null) {
        checker.restoreChecks(own.invariantChecks());
      }
    }
  }

  /**
   * Builds VM {@code vm}: fresh ({@code st} null: memory, memslot, image, mergeable) or holding
   * {@code st}'s state (the host side then comes from the restored frames and KSM).
   *
   * @param toggle the host-wide SID-map toggle, or null for a toggle of the VM's own
   */
  private VmRuntime createVm(
      int vm, GuestLayout layout, SidMapToggle toggle, boolean fullFlush, EngineVmState st) {
    int nv = spec.vcpusPerVm();
    long memBytes = layout.memoryPages() << 12;
    GuestMmuPort guest =
        spec.mmu() == MmuKind.BOOK3S_32
            ? new Guest32(GuestHtab.forSdr1Book3s32(layout.sdr1(), memBytes), cfg.options(), nv)
            : new Guest64(GuestHtab.forSdr1Book3s64(layout.sdr1(), memBytes), cfg.options(), nv);
    HostMmuConfig hc =
        cfg.host32()
            ? HostMmuConfig.host32(nv, cfg.options().has(Quirk.Q5_HOST32_INSERTION))
            : HostMmuConfig.host64(nv);
    hc = hc.withFirstContextId(1 + vm * 4);
    HostMmuCore host =
        st == null
            ? new HostMmuCore(hc, toggle != null ? toggle : new SidMapToggle())
            : toggle != null
                ? HostMmuCore.restore(st.getHostMmu(), hc, toggle)
                : HostMmuCore.restore(st.getHostMmu(), hc);
    VmRuntime rt =
        new VmRuntime(
            vm,
            guest,
            host,
            spec.linearMapBase(),
            spec.pagesPerVm(),
            layout.memoryPages(),
            fullFlush);
    rt.kernel =
        new GuestKernel(
            guest,
            spec.linearMapBase(),
            spec.pagesPerVm(),
            cfg.guestPp(),
            cfg.protection(),
            e -> rt.stats.inc(GUEST_EVENTS[e.ordinal()]),
            f -> applyGuestTlbie(rt, f));
    if (st == null) {
      createGuestMemory(vm, layout);
    }
    rt.vcpus = new VcpuRuntime[nv];
    for (int v = 0; v < nv; v++) {
      VcpuCore core =
          new VcpuCore(
              new Tlb(cfg.tlbEntries()),
              rt.cWatch,
              new PageFaultHandler(cfg.options()),
              cfg.maxFaultsPerAccess(),
              Counts.zero());
      core.setMode(guest.mode(v));
      VcpuRuntime vc =
          new VcpuRuntime(rt, v, new ResumableSource(spec.sourceFor(vm, v)), BATCH, core);
      rt.vcpus[v] = vc;
      vcpus.add(vc);
      long e = vc.source.expectedAccesses();
      expectedAccesses = expectedAccesses < 0 || e < 0 ? -1 : expectedAccesses + e;
    }
    if (st != null) {
      EngineCheckpoints.readVm(st, rt);
    }
    return rt;
  }

  /** The VM's memory in the host: its address space, one memslot, the image, mergeable. */
  private void createGuestMemory(int vm, GuestLayout layout) {
    frames.createVm(vm);
    frames.addSlot(vm, 0, 0, layout.memoryPages(), 0, false);
    ksm.madviseMergeable(vm, 0, layout.memoryPages());
    if (spec.image().isPresent()) {
      GuestImage image = spec.image().get();
      for (int p = 0; p < image.pages(); p++) {
        frames.populate(vm, p, image.fingerprint(p));
      }
    }
  }

  /** The page frames (for tests and the invariant checker). */
  public PageFrames frames() {
    return frames;
  }

  /** The KSM scanner. */
  public KsmScanner ksm() {
    return ksm;
  }

  /** The accesses the workload's sources announce in all, or -1 when unknown. */
  public long expectedAccesses() {
    return expectedAccesses;
  }

  /**
   * The simulated clock: {@link SimClock} of every vCPU's counters and the COW breaks since the run
   * began (0 before).
   */
  public long simNanos() {
    if (cowBreaksAtStart < 0) {
      return 0;
    }
    long[] sum = clockScratch; // once per round: no allocation on the access path's loop
    java.util.Arrays.fill(sum, 0);
    for (VcpuRuntime v : vcpus) {
      v.core.addTo(sum);
    }
    return SimClock.nanos(cfg.costs(), sum, frames.cowBreaks() - cowBreaksAtStart);
  }

  /** VM {@code vm}'s guest HTAB (guest memory; read-only use, e.g. comparing engines). */
  public GuestHtab guestHtab(int vm) {
    return vms[vm].guest.htab();
  }

  /**
   * VM {@code vm}'s shadow state: every vCPU's shadow-PTE cache entries and the host-MMU core's
   * counters, the same record the {@code HostMmu} actor answers to {@code DumpShadow} (read-only;
   * for comparing engines).
   */
  public ShadowDump shadowDump(int vm) {
    return vms[vm].host.shadowDump();
  }

  HostMmuCore host(int vm) {
    return vms[vm].host;
  }

  VmRuntime vm(int vm) {
    return vms[vm];
  }

  /** The invariant checker, or null without {@code checkInvariants} (for tests). */
  InvariantChecker checker() {
    return checker;
  }

  GuestMmuPort guest(int vm) {
    return vms[vm].guest;
  }

  /**
   * Runs the workload to its end, in the {@link LockstepSchedule}'s reference order (VM after VM,
   * each VM's vCPUs in index order, one quantum each per round), running the KSM batches and taking
   * the samples it says are due after each round.
   */
  public RunResult run(Progress progress) {
    if (schedule == null) {
      start();
    }
    while (schedule.active()) {
      runRound(progress);
    }
    return end(progress);
  }

  /**
   * Starts the run: the warm-up passes and the first KSM sample (at time 0). {@link #run} calls it
   * when needed; call it to drive the rounds one by one ({@link #runRound}).
   *
   * @throws IllegalStateException when the run has started already
   */
  public void start() {
    if (schedule != null) {
      throw new IllegalStateException("start: the run has started already");
    }
    cowBreaksAtStart = frames.cowBreaks();
    if (cfg.ksmWarmupPasses() > 0) {
      ksm.runFullScans(cfg.ksmWarmupPasses());
    }
    sample();
    schedule = LockstepSchedule.of(vms.length, spec.vcpusPerVm(), cfg);
  }

  /**
   * Runs one round and what is due after it (KSM batches, samples); afterwards every vCPU is
   * between quanta: a lockstep barrier, where {@link #checkpoint()} may be taken.
   *
   * @return true while rounds remain (then {@link #run} finishes the run)
   * @throws IllegalStateException before {@link #start()}, or when no round remains
   */
  public boolean runRound(Progress progress) {
    if (schedule == null || !schedule.active() || ended) {
      throw new IllegalStateException(
          "runRound: allowed between start() and the last round; "
              + (schedule == null ? "the run has not started" : "no round remains"));
    }
    for (LockstepSchedule.Lane lane : schedule.round()) {
      VcpuRuntime v = vms[lane.vm()].vcpus[lane.vcpu()];
      done += runQuantum(v);
      if (v.done) {
        schedule.finished(lane);
      }
    }
    long clock = simNanos();
    LockstepSchedule.Due due = schedule.endRound(clock);
    long visited = 0;
    for (int b = 0; b < due.ksmBatches(); b++) {
      visited += ksm.runBatch();
    }
    if (visited > 0 && checker != null) {
      checker.check(clock);
    }
    for (int s = 0; s < due.samples(); s++) {
      sample();
    }
    if (progress != null && done - reported >= 100_000) {
      progress.update(done, expectedAccesses);
      reported = done;
    }
    return schedule.active();
  }

  private RunResult end(Progress progress) {
    ended = true;
    sample();
    if (progress != null) {
      progress.update(done, done);
    }
    if (checker != null) {
      checker.checkFull(simNanos());
    }
    RunResult result = result();
    if (checker != null) {
      checker.checkCBits(cfg.options(), result.totals());
    }
    return result;
  }

  /**
   * The complete state of the run at this lockstep barrier (issue 13): every core's (guest MMU,
   * guest kernel, vCPU cores and TLBs, C-bit watches, host MMUs, page frames, KSM) and the engine's
   * own (schedule, clock inputs, samples, failures, workload positions, epochs). Pure: the run
   * continues unchanged. {@link #restore} builds an engine that finishes it identically.
   *
   * @throws IllegalStateException before {@link #start()} or after the run ended
   */
  public EngineCheckpoint checkpoint() {
    if (schedule == null || ended || lease >= 0) {
      throw new IllegalStateException(
          "checkpoint: allowed at a round barrier between start() and the run's end; "
              + (schedule == null ? "the run has not started" : "the run has ended"));
    }
    return EngineCheckpoints.write(
        spec,
        cfg,
        schedule,
        vms,
        frames,
        ksm,
        new EngineCheckpoints.Engine(
            samples, failures, cowBreaksAtStart, done, checker == null ? 0 : checker.checks()));
  }

  private int runQuantum(VcpuRuntime v) {
    enterGuest(v);
    int n = 0;
    while (n < cfg.quantum()) {
      if (v.pos == v.batch.size()) {
        v.pos = 0;
        if (v.source.fill(v.batch) == 0) {
          v.done = true;
          break;
        }
      }
      int i = v.pos++;
      access(v, v.batch.kindOrdinal(i), v.batch.ea(i), v.batch.value(i));
      n++;
    }
    return n;
  }

  /** Guest entry: process a pending KVM_REQ_TLB_FLUSH (spec 5.7). */
  private void enterGuest(VcpuRuntime v) {
    if (v.pendingFlush) {
      v.pendingFlush = false;
      if (v.vm.host.flushAll(v.index) > 0) {
        v.vm.epoch++;
      }
    }
  }

  private static final Access[] KINDS = Access.values();

  private static final Counter[] GUEST_EVENTS = {
    Counter.GUEST_DEMAND_MAPS,
    Counter.GUEST_EVICTIONS,
    Counter.GUEST_SLB_LOADS,
    Counter.GUEST_PROT_UPGRADES,
    Counter.GUEST_MISREPORTED
  };

  /**
   * One access, driven through the vCPU's core: each {@link Need} it answers is met by a call to
   * the core of the component asked, until the access completes or fails.
   */
  private void access(VcpuRuntime v, int kindOrdinal, long ea, long value) {
    VmRuntime vm = v.vm;
    VcpuCore core = v.core;
    Access kind = KINDS[kindOrdinal];
    Need need = core.begin(kind, ea, vm.epoch);
    while (true) {
      if (need instanceof Need.Hit h) {
        complete(v, kind, ea, value, h);
        return;
      } else if (need instanceof Need.SegmentVsid s) {
        need = core.onVsid(vm.guest.esidToVsid(v.index, s.esid()));
      } else if (need instanceof Need.HostLookup l) {
        int slot = vm.host.lookupSlot(v.index, l.gvsid(), l.ea());
        need =
            slot >= 0
                ? core.onLookup(
                    slot, vm.host.protectionOf(slot), (int) vm.host.pfnOf(slot), vm.epoch)
                : core.onLookup(slot, null, -1, vm.epoch);
      } else if (need instanceof Need.Fault f) {
        if (!exit(v, f.fault(), ea)) {
          return;
        }
        need = core.miss(); // the guest retries the access
      } else {
        throw new IllegalStateException("unknown need " + need);
      }
    }
  }

  /** An exit of the access at {@code ea}: false when the access is over (failed or MMIO). */
  private boolean exit(VcpuRuntime v, HostFault fault, long ea) {
    VmRuntime vm = v.vm;
    String livelocked = v.core.admit(false); // each access runs to its end: none forced
    if (livelocked != null) {
      fail(v, livelocked);
      return false;
    }
    FaultStep end = handleFault(v, fault);
    if (checker != null) {
      checker.check(simNanos());
    }
    // Every exit ends with a guest entry (kvmppc_handle_exit -> kvmppc_prepare_to_enter ->
    // kvmppc_core_check_requests, spec 5.7), also after an MMIO exit (the next KVM_RUN) and
    // before a reflected interrupt is delivered to the guest kernel.
    enterGuest(v);
    if (end instanceof FaultStep.MmioExit) {
      return false;
    }
    if (end instanceof FaultStep.Failed f) {
      fail(v, f.cause());
      return false;
    }
    if (end instanceof FaultStep.Reflect r
        && vm.kernel.handle(v.index, r.vector(), r.dsisr(), r.msrBits(), ea)
            == GuestKernel.Outcome.FAIL) {
      fail(v, vm.kernel.lastFailure());
      return false;
    }
    return true;
  }

  private void complete(VcpuRuntime v, Access kind, long ea, long value, Need.Hit hit) {
    int offset = (int) (ea & 0xFFF);
    if (kind == Access.LOAD) {
      v.loadDigest = Fingerprint.avalanche(v.loadDigest ^ frames.loadFrame(hit.pfn(), offset));
    } else if (kind == Access.STORE) {
      if (hit.readC()) {
        // a store through a watched page's entry (Q4, CBitWatch): the guest C bit, read now
        long pte = v.vm.guest.findPte(v.index, ea);
        boolean found = pte >= 0;
        v.core.onCRead(found, found && v.vm.guest.cBit(pte), v.vm.epoch);
      }
      frames.storeFrame(hit.pfn(), offset, value);
    }
  }

  private void fail(VcpuRuntime v, String cause) {
    String text = v.core.fail(v.vm.id, v.index, cause);
    if (failures.size() < VcpuCore.MAX_FAILURES_KEPT) {
      failures.add(text);
    }
  }

  /** Runs one exit through the fault handler against the cores, until a terminal step. */
  private FaultStep handleFault(VcpuRuntime v, HostFault fault) {
    VmRuntime vm = v.vm;
    VcpuCore core = v.core;
    FaultStep s = core.onFault(fault, vm.guest.cpu(v.index));
    while (!s.terminal()) {
      if (s instanceof FaultStep.Xlate x) {
        XlateResult r = x.relocated() ? vm.guest.xlate(v.index, x.ea(), x.access(), true) : null;
        s = core.onXlated(r, vm.guest.esidToVsid(v.index, x.ea() >>> 28));
      } else if (s instanceof FaultStep.GfnToPfn g) {
        lease = frames.leaseAcquire(vm.id);
        PfnResult p = frames.gfnToPfnProt(vm.id, g.gfn(), g.writeFault());
        pageRefs.take(0, p);
        s = core.onPfn(p);
      } else if (s instanceof FaultStep.UnmapPage u) {
        if (vm.host.unmapPage(v.index, u.pte(), u.vsid64k()) > 0) {
          vm.epoch++;
        }
        s = core.onUnmapped();
      } else if (s instanceof FaultStep.MapPage m) {
        boolean installed = m.guardSeq() < 0 || frames.notifierSeq(vm.id) == m.guardSeq();
        if (installed) {
          MapResult mr = vm.host.mapPage(v.index, m.pte(), m.gvsid(), m.pfn(), m.writable());
          if (mr.removedHptes()) {
            vm.epoch++;
          }
          s = core.onMapped(true, mr.readOnly(), mr.markDirty(), m.pte().eaddr());
        } else {
          s = core.onMapped(false, false, false, m.pte().eaddr());
        }
      } else {
        throw new IllegalStateException("unknown fault step " + s);
      }
    }
    if (lease >= 0) {
      pageRefs.release(0); // kvm_release_pfn_clean after the map
      frames.leaseRelease(vm.id, lease);
      lease = -1;
    }
    return s;
  }

  /** A guest tlbie: the host flushes it on every vCPU of the VM (spec 5.6 "Users"). */
  private void applyGuestTlbie(VmRuntime vm, HostFlush flush) {
    int removed = 0;
    if (flush instanceof HostFlush.PteFlush f) {
      removed = vm.host.pteFlushAllVcpus(f.ea(), f.mask());
    } else if (flush instanceof HostFlush.PteVflush f) {
      removed = vm.host.pteVflushAllVcpus(f.vpage(), f.mask());
    }
    if (removed > 0) {
      vm.epoch++;
    }
  }

  /**
   * An MMU-notifier event (spec 5.7): with Q8, every vCPU of the VM gets KVM_REQ_TLB_FLUSH and
   * flushes everything at its next guest entry; without, the guest-real range is flushed now.
   */
  private void onNotifier(int vm, long gfnStart, long gfnEnd) {
    VmRuntime rt = vms[vm];
    if (rt.notifierFullFlush) {
      rt.host.notifierFullFlushRequested();
      for (VcpuRuntime v : rt.vcpus) {
        v.pendingFlush = true;
      }
    } else {
      if (rt.host.notifierRangeFlush(gfnStart << 12, gfnEnd << 12) > 0) {
        rt.epoch++;
      }
    }
  }

  private void sample() {
    samples.add(
        new KsmSample(
            simNanos(),
            ksm.pagesShared(),
            ksm.pagesSharing(),
            ksm.pagesUnshared(),
            ksm.pagesVolatile(),
            ksm.fullScans(),
            frames.framesSavedByKsm(),
            frames.framesSaved()));
  }

  private RunResult result() {
    VmStats totals = new VmStats();
    List<VmStats> per = new ArrayList<>();
    long digest = 0;
    for (VmRuntime vm : vms) {
      VmStats stats = new VmStats();
      stats.addAll(vm.stats); // the guest kernel's events
      for (VcpuRuntime v : vm.vcpus) {
        stats.add(v.core.counts());
      }
      totals.addAll(stats);
      per.add(stats);
    }
    for (VcpuRuntime v : vcpus) {
      digest = Fingerprint.avalanche(digest ^ v.loadDigest);
    }
    Map<String, Long> host = new LinkedHashMap<>();
    host.put("cow_breaks", frames.cowBreaks());
    host.put("cow_ksm", frames.cowKsm());
    host.put("zero_page_maps", frames.zeroPageMaps());
    host.put("fresh_allocations", frames.freshAllocations());
    host.put("notifier_events", frames.notifierEvents());
    host.put("frames_in_use", frames.framesInUse());
    host.put("ksm_pages_visited", ksm.pagesVisited());
    host.put("ksm_full_scans", ksm.fullScans());
    host.put("ksmd_cpu_ns", ksm.pagesVisited() * cfg.costs().ksmPageVisitNs());
    for (VmRuntime vm : vms) {
      HostMmuStats hs = vm.host.stats();
      for (Map.Entry<String, Long> e : hs.toMap().entrySet()) {
        host.merge("hostmmu_" + e.getKey(), e.getValue(), Long::sum);
      }
    }
    return new RunResult(
        cfg.options(),
        spec.name(),
        totals,
        per,
        host,
        List.copyOf(samples),
        simNanos(),
        digest,
        List.copyOf(failures),
        checker == null ? 0 : checker.checks());
  }
}
