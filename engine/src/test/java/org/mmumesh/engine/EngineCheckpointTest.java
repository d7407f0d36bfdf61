package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.CheckpointCompleteness;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.EngineCheckpoint;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/**
 * Issue 13: the sequential engine checkpointed at a round barrier and restored into a fresh engine
 * finishes the run exactly as the run that never stopped: the same table numbers, per-VM stats,
 * host counters, KSM series, clock, load digest, failures, and the same complete state at the last
 * barrier; for every MMU kind, policy, and 1 and 2 vCPUs per VM, through the checkpoint's bytes.
 */
class EngineCheckpointTest {
  private static final int VMS = 3;
  private static final int PAGES = 96;

  private static WorkloadSpec spec(MmuKind mmu, int vcpus) {
    return Workloads.identicalGuests(
        "ckpt",
        VMS,
        vcpus,
        PAGES,
        mmu,
        GuestImage.synthetic(PAGES, 0.4, 77),
        new ReadMostlyPhase(0.8, PAGES, Locality.ZIPF, 0.8, 6_000, 0.02),
        2026);
  }

  private static EngineConfig config(Policy p, boolean invariants) {
    // a fast ksmd: merges and COW breaks interleave with the guests' accesses
    return EngineConfig.defaults(MmuOptions.defaults(p))
        .withInvariants(invariants)
        .withKsm(400, 1, 1);
  }

  /** Runs rounds until none remains, stopping at the last barrier (before the end). */
  private static void toLastBarrier(SequentialEngine e) {
    while (e.runRound(null)) {
      // next round
    }
  }

  private static void assertSameResult(RunResult got, RunResult want) {
    assertThat(got.totals().toMap()).isEqualTo(want.totals().toMap());
    assertThat(got.perVm().stream().map(VmStats::toMap).toList())
        .isEqualTo(want.perVm().stream().map(VmStats::toMap).toList());
    assertThat(got.host()).isEqualTo(want.host());
    assertThat(got.samples()).isEqualTo(want.samples());
    assertThat(got.simNanos()).isEqualTo(want.simNanos());
    assertThat(got.loadDigest()).isEqualTo(want.loadDigest());
    assertThat(got.failures()).isEqualTo(want.failures());
    assertThat(got.invariantChecks()).isEqualTo(want.invariantChecks());
    assertThat(got.options()).isEqualTo(want.options());
  }

  private static void checkpointRestoreFinish(
      MmuKind mmu, Policy p, int vcpus, int cut, boolean inv) throws Exception {
    WorkloadSpec spec = spec(mmu, vcpus);
    EngineConfig cfg = config(p, inv);
    String what = mmu + " " + p + " vcpus=" + vcpus + " cut=" + cut;

    SequentialEngine whole = new SequentialEngine(spec, cfg);
    whole.start();
    toLastBarrier(whole);
    EngineCheckpoint wholeEnd = whole.checkpoint();
    RunResult want = whole.run(null);

    SequentialEngine first = new SequentialEngine(spec, cfg);
    first.start();
    for (int r = 0; r < cut; r++) {
      assertThat(first.runRound(null)).as(what + ": rounds remain at the cut").isTrue();
    }
    EngineCheckpoint cp = first.checkpoint();
    assertThat(first.checkpoint()).as(what + ": checkpoint() is pure").isEqualTo(cp);
    byte[] bytes = cp.toByteArray(); // what the store holds
    EngineCheckpoint read = EngineCheckpoint.parseFrom(bytes);
    assertThat(read).isEqualTo(cp);

    SequentialEngine second = SequentialEngine.restore(spec, cfg, read);
    assertThat(firstDifference(second.checkpoint(), cp, "")).as(what + ": round trip").isNull();
    for (int vm = 0; vm < VMS; vm++) {
      assertThat(second.shadowDump(vm)).as(what + ": shadow dump").isEqualTo(first.shadowDump(vm));
    }
    toLastBarrier(second);
    assertThat(firstDifference(second.checkpoint(), wholeEnd, ""))
        .as(what + ": state at the last barrier")
        .isNull();
    assertSameResult(second.run(null), want);
    // the engine the checkpoint was taken from goes on unchanged
    assertSameResult(first.run(null), want);
  }

  /** The path of the first field where {@code a} and {@code b} differ, or null when equal. */
  static String firstDifference(Message a, Message b, String path) {
    if (a.equals(b)) {
      return null;
    }
    for (Descriptors.FieldDescriptor f : a.getDescriptorForType().getFields()) {
      Object x = a.getField(f);
      Object y = b.getField(f);
      if (x.equals(y)) {
        continue;
      }
      String p = path + "." + f.getName();
      if (f.isRepeated()) {
        List<?> lx = (List<?>) x;
        List<?> ly = (List<?>) y;
        if (lx.size() != ly.size()) {
          return p + " (size " + lx.size() + " vs " + ly.size() + ")";
        }
        for (int i = 0; i < lx.size(); i++) {
          if (!lx.get(i).equals(ly.get(i))) {
            return lx.get(i) instanceof Message mx
                ? firstDifference(mx, (Message) ly.get(i), p + "[" + i + "]")
                : p + "[" + i + "]: " + lx.get(i) + " vs " + ly.get(i);
          }
        }
      }
      return x instanceof Message mx
          ? firstDifference(mx, (Message) y, p)
          : p + ": " + x + " vs " + y;
    }
    return path + " (unknown fields)";
  }

  @Test
  void restoredRun_equalsTheUninterruptedRun_everyMmuPolicyAndVcpuCount() throws Exception {
    int k = 0;
    for (MmuKind mmu : MmuKind.values()) {
      for (Policy p : Policy.values()) {
        for (int vcpus = 1; vcpus <= 2; vcpus++) {
          checkpointRestoreFinish(mmu, p, vcpus, 3 + (k++ * 17) % 60, false);
        }
      }
    }
  }

  @Test
  void restoredRun_withTheInvariantChecker_equalsTheUninterruptedRun() throws Exception {
    checkpointRestoreFinish(MmuKind.BOOK3S_64, Policy.FIXED, 2, 25, true);
    checkpointRestoreFinish(MmuKind.BOOK3S_32, Policy.STRICT, 1, 40, true);
  }

  @Test
  void checkpoint_beforeStartOrAfterTheEnd_isRefused() {
    SequentialEngine e =
        new SequentialEngine(spec(MmuKind.BOOK3S_64, 1), config(Policy.STRICT, false));
    assertThatThrownBy(e::checkpoint)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not started");
    e.run(null);
    assertThatThrownBy(e::checkpoint)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ended");
  }

  @Test
  void restore_refusesAnotherWorkloadConfigOrVersion_namingTheField() {
    WorkloadSpec spec = spec(MmuKind.BOOK3S_64, 1);
    EngineConfig cfg = config(Policy.STRICT, false);
    SequentialEngine e = new SequentialEngine(spec, cfg);
    e.start();
    e.runRound(null);
    EngineCheckpoint cp = e.checkpoint();
    assertThatThrownBy(() -> SequentialEngine.restore(spec, config(Policy.FIXED, false), cp))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("config: the checkpoint has");
    assertThatThrownBy(() -> SequentialEngine.restore(spec(MmuKind.BOOK3S_64, 2), cfg, cp))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("vms[0].vcpus (count): the checkpoint has 1 but");
    assertThatThrownBy(
            () -> SequentialEngine.restore(spec, cfg, cp.toBuilder().setFormatVersion(2).build()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessage("format_version: 2 is out of range; allowed 1 to 1");
    EngineCheckpoint badBatch =
        cp.toBuilder()
            .setVms(
                0,
                cp.getVms(0).toBuilder()
                    .setVcpus(0, cp.getVms(0).getVcpus(0).toBuilder().addBatchValues(1)))
            .build();
    assertThatThrownBy(() -> SequentialEngine.restore(spec, cfg, badBatch))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("vms[0].vcpus[0].batch_");
    EngineCheckpoint badKind =
        cp.toBuilder()
            .setVms(
                0,
                cp.getVms(0).toBuilder()
                    .setVcpus(0, cp.getVms(0).getVcpus(0).toBuilder().setBatchKinds(0, 3)))
            .build();
    assertThatThrownBy(() -> SequentialEngine.restore(spec, cfg, badKind))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessage("vms[0].vcpus[0].batch_kinds[0]: 3 is out of range; allowed 0 to 2");
  }

  /**
   * The completeness guard: every instance field of the engine's runtime classes is written by
   * checkpoint() or listed here as derived, wiring or dead at a barrier, with the reason.
   */
  @Test
  void everyField_isCheckpointed_orListedAsDerivedOrWiring() {
    Map<Class<?>, Set<String>> written =
        Map.of(
            SequentialEngine.class,
            Set.of(
                "frames",
                "ksm",
                "vms",
                "samples",
                "failures",
                "cowBreaksAtStart",
                "schedule",
                "done",
                "checker"), // checker: its count of checks
            VmRuntime.class,
            Set.of("guest", "host", "stats", "cWatch", "kernel", "vcpus", "epoch"),
            VcpuRuntime.class,
            Set.of("source", "batch", "pos", "core", "done", "pendingFlush", "loadDigest"),
            LockstepSchedule.class,
            Set.of(
                "vms",
                "vcpusPerVm",
                "finished",
                "nextKsmNanos",
                "nextSampleNanos",
                "clockNanos",
                "rounds"));
    Map<Class<?>, Set<String>> notWritten =
        Map.of(
            // spec, cfg: given to restore (checked); pageRefs/lease: the fault's, released at its
            // end; vcpus: the VMs' vCPUs in one list; clockScratch: scratch; expectedAccesses:
            // announced by the sources; reported: the progress callback's mark; ended: a
            // checkpoint is refused after the end
            SequentialEngine.class,
            Set.of(
                "spec",
                "cfg",
                "pageRefs",
                "lease",
                "vcpus",
                "clockScratch",
                "expectedAccesses",
                "reported",
                "ended"),
            // id, windowBase, windowPages, memoryPages, notifierFullFlush: from the spec and cfg
            VmRuntime.class,
            Set.of("id", "windowBase", "windowPages", "memoryPages", "notifierFullFlush"),
            // vm, index: the position in the engine
            VcpuRuntime.class,
            Set.of("vm", "index"),
            // the periods: configuration; active: the count of unfinished vCPUs
            LockstepSchedule.class,
            Set.of("ksmPeriodNanos", "sampleIntervalNanos", "active"));
    CheckpointCompleteness.assertEveryFieldListed(written, notWritten);
  }
}
