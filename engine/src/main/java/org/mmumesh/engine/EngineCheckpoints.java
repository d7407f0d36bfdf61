package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.EngineCheckpoint;
import org.mmumesh.checkpoint.v1.EngineVcpuState;
import org.mmumesh.checkpoint.v1.EngineVmState;
import org.mmumesh.checkpoint.v1.KsmSampleState;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Writes and reads the sequential engine's checkpoint ({@link EngineCheckpoint}, issue 13) at a
 * round barrier: every core's state through the core's own {@code checkpoint()}, and the engine's
 * own state (what {@link SequentialEngine}, {@link VmRuntime} and {@link VcpuRuntime} hold).
 *
 * <p><b>What is written, per level.</b> Engine: the format version, the workload's name and the
 * configuration (checked on restore), the {@link LockstepSchedule}, the KSM samples so far, the
 * failure texts kept, the COW breaks at the run's start (the clock counts those after), the
 * accesses done, the invariant checks run, the page frames and KSM. VM: the guest MMU, the guest
 * kernel model, the C-bit watch, the TLB epoch, the guest kernel's event counters, the host MMU.
 * vCPU: the core (counters, mode, TLB at the VM's epoch), the workload source's position, the
 * accesses fetched but not yet run, whether its source is exhausted, a pending KVM_REQ_TLB_FLUSH,
 * the load digest.
 *
 * <p><b>Not written</b> (derived, wiring or dead at a barrier): the fault's memslot lease and page
 * reference (released at the end of every fault), the clock's scratch array, the progress
 * reporter's last mark, the expected access count (the sources announce it), the invariant
 * checker's indexes, the listeners. The engine test's completeness guard lists these.
 */
final class EngineCheckpoints {
  /** The format version this build writes and the newest it reads. */
  static final int FORMAT_VERSION = 1;

  private EngineCheckpoints() {}

  /** The engine's own state beside its cores'. */
  record Engine(
      List<KsmSample> samples,
      List<String> failures,
      long cowBreaksAtStart,
      long accessesDone,
      long invariantChecks) {}

  static EngineCheckpoint write(
      WorkloadSpec spec,
      EngineConfig cfg,
      LockstepSchedule schedule,
      VmRuntime[] vms,
      PageFrames frames,
      KsmScanner ksm,
      Engine own) {
    EngineCheckpoint.Builder b =
        EngineCheckpoint.newBuilder()
            .setFormatVersion(FORMAT_VERSION)
            .setWorkload(spec.name())
            .setConfig(cfg.toString())
            .setSchedule(schedule.checkpoint())
            .addAllFailures(own.failures())
            .setCowBreaksAtStart(own.cowBreaksAtStart())
            .setAccessesDone(own.accessesDone())
            .setInvariantChecks(own.invariantChecks())
            .setPageFrames(frames.checkpoint())
            .setKsm(ksm.checkpoint());
    for (KsmSample s : own.samples()) {
      b.addSamples(
          KsmSampleState.newBuilder()
              .setSimNanos(s.simNanos())
              .setPagesShared(s.pagesShared())
              .setPagesSharing(s.pagesSharing())
              .setPagesUnshared(s.pagesUnshared())
              .setPagesVolatile(s.pagesVolatile())
              .setFullScans(s.fullScans())
              .setFramesSavedByKsm(s.framesSavedByKsm())
              .setFramesSaved(s.framesSaved()));
    }
    for (VmRuntime vm : vms) {
      b.addVms(writeVm(vm));
    }
    return b.build();
  }

  private static EngineVmState writeVm(VmRuntime vm) {
    EngineVmState.Builder b =
        EngineVmState.newBuilder()
            .setGuest(vm.guest.checkpoint())
            .setKernel(vm.kernel.checkpoint())
            .setCBitWatch(vm.cWatch.checkpoint())
            .setEpoch(vm.epoch)
            .setHostMmu(vm.host.checkpoint());
    for (long c : vm.stats.counts().values()) {
      b.addGuestEventCounters(c);
    }
    for (VcpuRuntime v : vm.vcpus) {
      EngineVcpuState.Builder vb =
          EngineVcpuState.newBuilder()
              .setCore(v.core.checkpoint(vm.epoch))
              .setSource(v.source.checkpoint())
              .setDone(v.done)
              .setPendingFlush(v.pendingFlush)
              .setLoadDigest(v.loadDigest);
      AccessBatch batch = v.batch;
      for (int i = v.pos; i < batch.size(); i++) {
        vb.addBatchKinds(batch.kindOrdinal(i))
            .addBatchEffectiveAddrs(batch.ea(i))
            .addBatchSizesBytes(batch.sizeBytes(i))
            .addBatchValues(batch.value(i));
      }
      b.addVcpus(vb);
    }
    return b.build();
  }

  /**
   * Checks what can be checked before anything is built: the format version, the workload, the
   * configuration and the shape.
   *
   * @throws CheckpointMismatchException naming the field
   */
  static void checkFits(WorkloadSpec spec, EngineConfig cfg, EngineCheckpoint cp) {
    CheckpointMismatchException.checkRange(
        "format_version", cp.getFormatVersion(), 1, FORMAT_VERSION);
    CheckpointMismatchException.requireEqual("workload", cp.getWorkload(), spec.name());
    CheckpointMismatchException.requireEqual("config", cp.getConfig(), cfg.toString());
    CheckpointMismatchException.requireEqual("vms (count)", cp.getVmsCount(), spec.vms());
    for (int vm = 0; vm < cp.getVmsCount(); vm++) {
      EngineVmState st = cp.getVms(vm);
      CheckpointMismatchException.requireEqual(
          "vms[" + vm + "].vcpus (count)", st.getVcpusCount(), spec.vcpusPerVm());
      CheckpointMismatchException.requireEqual(
          "vms[" + vm + "].guest_event_counters (count)",
          st.getGuestEventCountersCount(),
          Counter.COUNT);
      for (int v = 0; v < st.getVcpusCount(); v++) {
        EngineVcpuState vs = st.getVcpus(v);
        String f = "vms[" + vm + "].vcpus[" + v + "].";
        int n = vs.getBatchKindsCount();
        if (vs.getBatchEffectiveAddrsCount() != n
            || vs.getBatchSizesBytesCount() != n
            || vs.getBatchValuesCount() != n) {
          throw new CheckpointMismatchException(
              f + "batch_*: the four batch lists disagree in length; allowed: equal lengths");
        }
        CheckpointMismatchException.checkRange(f + "batch_kinds (count)", n, 0, 256);
        for (int i = 0; i < n; i++) {
          CheckpointMismatchException.checkRange(
              f + "batch_kinds[" + i + "]", vs.getBatchKinds(i), 0, Access.values().length - 1L);
          CheckpointMismatchException.checkRange(
              f + "batch_sizes_bytes[" + i + "]", vs.getBatchSizesBytes(i), 1, MmuKind.PAGE_BYTES);
        }
      }
    }
  }

  /** Puts VM state {@code st} into {@code rt} (its cores freshly built). */
  static void readVm(EngineVmState st, VmRuntime rt) {
    String f = "vms[" + rt.id + "].";
    try {
      rt.guest.restore(st.getGuest());
      rt.kernel.restore(st.getKernel());
      rt.cWatch.restore(st.getCBitWatch());
    } catch (CheckpointMismatchException e) {
      throw new CheckpointMismatchException(f + e.getMessage());
    }
    rt.epoch = st.getEpoch();
    long[] events = new long[Counter.COUNT];
    for (int i = 0; i < events.length; i++) {
      events[i] = st.getGuestEventCounters(i);
    }
    rt.stats.add(new Counts(events));
    for (VcpuRuntime v : rt.vcpus) {
      EngineVcpuState vs = st.getVcpus(v.index);
      try {
        v.core.restore(vs.getCore());
        v.source.restore(vs.getSource());
      } catch (CheckpointMismatchException e) {
        throw new CheckpointMismatchException(f + "vcpus[" + v.index + "]." + e.getMessage());
      }
      v.batch.clear();
      for (int i = 0; i < vs.getBatchKindsCount(); i++) {
        v.batch.add(
            vs.getBatchKinds(i),
            vs.getBatchEffectiveAddrs(i),
            vs.getBatchSizesBytes(i),
            vs.getBatchValues(i));
      }
      v.pos = 0;
      v.done = vs.getDone();
      v.pendingFlush = vs.getPendingFlush();
      v.loadDigest = vs.getLoadDigest();
    }
  }

  /** The engine's own state; restores {@code schedule} from it. */
  static Engine readEngine(EngineCheckpoint cp, LockstepSchedule schedule) {
    schedule.restore(cp.getSchedule());
    List<KsmSample> samples = new ArrayList<>(cp.getSamplesCount());
    for (KsmSampleState s : cp.getSamplesList()) {
      samples.add(
          new KsmSample(
              s.getSimNanos(),
              s.getPagesShared(),
              s.getPagesSharing(),
              s.getPagesUnshared(),
              s.getPagesVolatile(),
              s.getFullScans(),
              s.getFramesSavedByKsm(),
              s.getFramesSaved()));
    }
    return new Engine(
        samples,
        List.copyOf(cp.getFailuresList()),
        cp.getCowBreaksAtStart(),
        cp.getAccessesDone(),
        cp.getInvariantChecks());
  }
}
