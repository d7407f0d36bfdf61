package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.LockstepScheduleState;
import org.mmumesh.common.Checks;

/**
 * The lockstep schedule (architecture section 3), the one the sequential engine, the mesh's
 * lockstep driver ({@code MeshCluster}) and the gRPC {@code LockstepClient} all follow: it decides,
 * the drivers execute. Pure: no clock of its own, no I/O.
 *
 * <p><b>Rounds.</b> The run is a sequence of rounds; in a round every vCPU whose access source is
 * not exhausted runs one quantum ({@code quantum} accesses, or the rest of its source), entering
 * the guest at its start (a pending KVM_REQ_TLB_FLUSH is processed there, spec 5.7).
 *
 * <p><b>Order within a round.</b> The vCPUs of one VM run one after another, in index order: vCPU
 * {@code i+1}'s quantum starts after vCPU {@code i}'s ended (every store applied, every shootdown
 * acknowledged). They share the VM's guest MMU, host MMU, TLB epoch and C-bit state, so their order
 * decides the outcome; fixing it makes a run with several vCPUs per VM a function of its seed. VMs
 * share only the page frames (allocation, COW breaks of KSM pages): their quanta commute in every
 * reported number (host pfns aside), so a concurrent driver may run the VMs' chains at once. The
 * reference order ({@link #round()}) is VM after VM; a concurrent driver runs {@link #steps()}:
 * step {@code s} holds vCPU {@code s} of every VM, the steps one after another, the lanes of a step
 * concurrently. Both orders keep each VM's vCPUs in index order.
 *
 * <p><b>Between rounds</b>, with every vCPU idle, the driver reads the simulated clock and asks
 * {@link #endRound(long)} what is due: ksmd's batches ({@code ksm_do_scan(pages_to_scan)}, one per
 * {@code sleep_millisecs} of simulated time; {@code run} became 1 at time 0, so the first is due at
 * once) and KSM samples (one per sample interval reached; the driver takes one sample and records
 * it that many times: nothing changes between them). A driver also records a sample at time 0
 * (after the warm-up passes) and one at the end.
 *
 * <p>A vCPU leaves the schedule when its source is exhausted ({@link #finished}); the run ends when
 * none is left ({@link #active()}).
 */
public final class LockstepSchedule {
  /** A vCPU of the run: VM {@code vm}, vCPU index {@code vcpu}. */
  public record Lane(int vm, int vcpu) {}

  /**
   * What is due after a round: {@code ksmBatches} ksmd batches, then {@code samples} records of one
   * KSM sample taken at the round's clock.
   */
  public record Due(int ksmBatches, int samples) {}

  private final int vms;
  private final int vcpusPerVm;
  private final long ksmPeriodNanos;
  private final long sampleIntervalNanos;
  private final boolean[][] finished;
  private int active;
  private long nextKsmNanos; // run became 1 at simulated time 0: ksmd wakes at once
  private long nextSampleNanos;
  private long clockNanos;
  private int rounds;

  /**
   * The schedule of {@code vms} VMs of {@code vcpusPerVm} vCPUs each, ksmd waking every {@code
   * ksmSleepMillisecs} of simulated time, a KSM sample every {@code sampleIntervalNanos}.
   *
   * @throws IllegalArgumentException when an argument is out of its range (named)
   */
  public LockstepSchedule(
      int vms, int vcpusPerVm, long ksmSleepMillisecs, long sampleIntervalNanos) {
    Checks.inRange("vms", vms, 1, Integer.MAX_VALUE);
    Checks.inRange("vcpusPerVm", vcpusPerVm, 1, Integer.MAX_VALUE);
    Checks.inRange("ksmSleepMillisecs", ksmSleepMillisecs, 1, 60_000);
    Checks.inRange("sampleIntervalNanos", sampleIntervalNanos, 1, Long.MAX_VALUE);
    this.vms = vms;
    this.vcpusPerVm = vcpusPerVm;
    this.ksmPeriodNanos = ksmSleepMillisecs * 1_000_000L;
    this.sampleIntervalNanos = sampleIntervalNanos;
    this.finished = new boolean[vms][vcpusPerVm];
    this.active = vms * vcpusPerVm;
    this.nextSampleNanos = sampleIntervalNanos;
  }

  /** The schedule of a run of {@code vms} VMs of {@code vcpusPerVm} vCPUs under {@code cfg}. */
  public static LockstepSchedule of(int vms, int vcpusPerVm, EngineConfig cfg) {
    return new LockstepSchedule(
        vms, vcpusPerVm, cfg.ksmSleepMillisecs(), cfg.sampleIntervalNanos());
  }

  /** True while some vCPU's source is not exhausted. */
  public boolean active() {
    return active > 0;
  }

  /** True when {@code lane} runs in the coming round (its source is not known exhausted). */
  public boolean runs(Lane lane) {
    return !finished[lane.vm()][lane.vcpu()];
  }

  /** {@code lane}'s source is exhausted: it runs in no later round. */
  public void finished(Lane lane) {
    if (!finished[lane.vm()][lane.vcpu()]) {
      finished[lane.vm()][lane.vcpu()] = true;
      active--;
    }
  }

  /** The coming round in the reference order: VM after VM, each VM's vCPUs in index order. */
  public List<Lane> round() {
    List<Lane> out = new ArrayList<>(active);
    for (int vm = 0; vm < vms; vm++) {
      for (int v = 0; v < vcpusPerVm; v++) {
        if (!finished[vm][v]) {
          out.add(new Lane(vm, v));
        }
      }
    }
    return out;
  }

  /**
   * The coming round for a concurrent driver: step {@code s} is vCPU {@code s} of every VM whose
   * vCPU {@code s} runs; run the steps one after another, a step's lanes at once. Empty steps are
   * left out.
   */
  public List<List<Lane>> steps() {
    List<List<Lane>> out = new ArrayList<>(vcpusPerVm);
    for (int v = 0; v < vcpusPerVm; v++) {
      List<Lane> step = new ArrayList<>(vms);
      for (int vm = 0; vm < vms; vm++) {
        if (!finished[vm][v]) {
          step.add(new Lane(vm, v));
        }
      }
      if (!step.isEmpty()) {
        out.add(List.copyOf(step));
      }
    }
    return out;
  }

  /**
   * A round ended with the simulated clock at {@code clockNanos}: what is due now.
   *
   * @throws IllegalArgumentException when the clock went backwards
   */
  public Due endRound(long clockNanos) {
    Checks.inRange("clockNanos", clockNanos, this.clockNanos, Long.MAX_VALUE);
    this.clockNanos = clockNanos;
    rounds++;
    int batches = 0;
    while (nextKsmNanos <= clockNanos) {
      batches++;
      nextKsmNanos += ksmPeriodNanos;
    }
    int samples = 0;
    while (nextSampleNanos <= clockNanos) {
      samples++;
      nextSampleNanos += sampleIntervalNanos;
    }
    return new Due(batches, samples);
  }

  // ---- Checkpoint (style rule 26)
  // ----------------------------------------------------------------

  /**
   * The schedule between rounds: which vCPUs finished, when ksmd and the next sample are due, the
   * clock and the round count, plus its shape (checked on restore). The periods are configuration
   * (the engine's config is checked as a whole) and {@code active} is the count of unfinished
   * vCPUs. Pure.
   */
  public LockstepScheduleState checkpoint() {
    LockstepScheduleState.Builder b =
        LockstepScheduleState.newBuilder()
            .setVmCount(vms)
            .setVcpusPerVm(vcpusPerVm)
            .setNextKsmNanos(nextKsmNanos)
            .setNextSampleNanos(nextSampleNanos)
            .setClockNanos(clockNanos)
            .setRounds(rounds);
    for (boolean[] vm : finished) {
      for (boolean f : vm) {
        b.addFinished(f);
      }
    }
    return b.build();
  }

  /**
   * Puts {@code state} into this fresh schedule of the same shape.
   *
   * @throws CheckpointMismatchException naming the field when the shape differs or the list of
   *     finished vCPUs has another length; nothing changed then
   */
  public void restore(LockstepScheduleState state) {
    CheckpointMismatchException.requireEqual("schedule.vm_count", state.getVmCount(), vms);
    CheckpointMismatchException.requireEqual(
        "schedule.vcpus_per_vm", state.getVcpusPerVm(), vcpusPerVm);
    CheckpointMismatchException.requireEqual(
        "schedule.finished (count)", state.getFinishedCount(), vms * vcpusPerVm);
    CheckpointMismatchException.checkRange(
        "schedule.rounds", state.getRounds(), 0, Integer.MAX_VALUE);
    int left = 0;
    for (int vm = 0; vm < vms; vm++) {
      for (int v = 0; v < vcpusPerVm; v++) {
        finished[vm][v] = state.getFinished(vm * vcpusPerVm + v);
        left += finished[vm][v] ? 0 : 1;
      }
    }
    active = left;
    nextKsmNanos = state.getNextKsmNanos();
    nextSampleNanos = state.getNextSampleNanos();
    clockNanos = state.getClockNanos();
    rounds = state.getRounds();
  }

  /** Rounds ended so far. */
  public int rounds() {
    return rounds;
  }

  /** The simulated time the next ksmd batch is due at. */
  public long nextKsmNanos() {
    return nextKsmNanos;
  }
}
