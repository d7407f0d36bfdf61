package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.mmumesh.common.AccessOp;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.LockstepSchedule;
import org.mmumesh.engine.SimClock;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.mesh.MeshRunResults.Tally;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.WorkloadSpec;

/**
 * {@link MeshCluster}'s run driver for a static run, on node 0: {@link #setUp} registers the
 * workload's host and VMs (through {@link MeshVms}, the path of VMs created at run time), sets
 * ksmd's controls, loads the boot image and runs the warm-up passes; {@link #run} then drives the
 * vCPUs in one of {@link MeshEngine}'s two pacings: lockstep rounds of the {@link
 * LockstepSchedule}, or free-running {@link Driver}s with ksmd on its own timer.
 */
final class MeshRunDriver {
  private static final Duration RUN = Duration.ofMinutes(10);
  private static final int BATCH_ATTEMPTS = 12;

  private final ActorSystem<Guardian.Command> system;
  private final NodeGlue glue;
  private final MeshAsks asks;
  private final AtomicLong nextId;
  private final WorkloadSpec spec;
  private final EngineConfig cfg;

  MeshRunDriver(
      ActorSystem<Guardian.Command> system,
      NodeGlue glue,
      AtomicLong nextId,
      WorkloadSpec spec,
      EngineConfig cfg) {
    this.system = system;
    this.glue = glue;
    this.nextId = nextId;
    this.asks = new MeshAsks(system, nextId);
    this.spec = spec;
    this.cfg = cfg;
  }

  /**
   * The workload's host and VMs, registered on every node and created on the page frames; ksmd's
   * controls; the boot image; the warm-up passes.
   *
   * @return the run's wiring (every VM's entities)
   */
  Guardian.Wiring setUp() {
    // The workload's host and VMs, registered on every node and created on the page frames
    // through the same path as VMs created at run time.
    MeshVms vms = new MeshVms(system, glue, MeshAsks.ASK, nextId);
    // ksmd's controls: run 1 (the sequential engine's scanner runs from the start), but with
    // pages_to_scan 0 ksmd's own wall-clock timer (in the host's PageFrame) scans nothing; this
    // run paces ksmd.
    ActorRef<PageFrame.Command> ksm = glue.frames(Guardian.HOST);
    control(ksm, (id, r) -> new PageFrame.KsmSetPagesToScan(id, 0, r));
    control(ksm, (id, r) -> new PageFrame.KsmSetSleepMillisecs(id, cfg.ksmSleepMillisecs(), r));
    control(ksm, (id, r) -> new PageFrame.KsmSetRun(id, KsmScanner.RUN_MERGE, r));
    MeshAsks.await(
        vms.putHost(new MeshDirectory.HostEntry(Guardian.HOST, cfg.host32(), Integer.MAX_VALUE))
            .toCompletableFuture(),
        MeshAsks.ASK.plusSeconds(5),
        "the host registered on every node");
    for (int vm = 0; vm < spec.vms(); vm++) {
      MeshAsks.await(
          vms.create(MeshDirectory.ofWorkload(spec, cfg, vm)).toCompletableFuture(),
          MeshAsks.ASK.plusSeconds(5),
          "vm " + vm + " created");
    }
    Guardian.Wiring w =
        asks.ask(
            system,
            (ActorRef<Guardian.Wiring> r) ->
                new Guardian.GetWiring(spec.vms(), spec.vcpusPerVm(), r));
    ActorRef<PageFrame.Command> pf = w.frames();
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      if (spec.image().isPresent()) {
        GuestImage image = spec.image().get();
        for (int p = 0; p < image.pages(); p++) {
          long gfn = p;
          long fp = image.fingerprint(p);
          asks.call(
              pf,
              (Long id, ActorRef<PageFrame.PopulateReply> r) ->
                  new PageFrame.Populate(id, v, gfn, fp, r),
              PageFrame.Populated.class);
        }
      }
    }
    if (cfg.ksmWarmupPasses() > 0) {
      asks.call(
          w.frames(),
          (Long id, ActorRef<PageFrame.KsmReply> r) ->
              new PageFrame.KsmFullScans(id, cfg.ksmWarmupPasses(), r),
          PageFrame.KsmFullScansDone.class);
    }
    return w;
  }

  /**
   * Runs the workload in {@code pacing}, collecting into a fresh {@link Tally} (its first KSM
   * sample at time 0), and calls {@code afterRound} with the round number after every lockstep
   * round.
   */
  Tally run(
      Guardian.Wiring w, MeshRunResults results, MeshEngine.Pacing pacing, IntConsumer afterRound) {
    Tally t = new Tally(spec);
    long cowStart = results.frameStats().getOrDefault("COW_BREAKS", 0L);
    t.samples.add(results.sample(0));
    if (pacing == MeshEngine.Pacing.LOCKSTEP) {
      runLockstep(w, results, t, cowStart, afterRound);
    } else {
      runFree(w, results, t, cowStart);
    }
    return t;
  }

  /** One vCPU's access source, cut into batches of exactly {@code quantum} accesses. */
  private static final class Lane {
    final int vm;
    final int vcpu;
    final ActorRef<Vcpu.Command> ref;
    final AccessSource source;
    final AccessBatch batch;
    long batchId;

    Lane(int vm, int vcpu, ActorRef<Vcpu.Command> ref, AccessSource source, int quantum) {
      this.vm = vm;
      this.vcpu = vcpu;
      this.ref = ref;
      this.source = source;
      this.batch = new AccessBatch(quantum);
    }

    /** The next batch's accesses, or null when the source is exhausted. */
    List<AccessOp> next() {
      int n = source.fill(batch);
      if (n == 0) {
        return null;
      }
      List<AccessOp> ops = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ops.add(new AccessOp(batch.kind(i), batch.ea(i), batch.value(i)));
      }
      batchId++;
      return List.copyOf(ops);
    }
  }

  /**
   * Rounds of the {@link LockstepSchedule}, as {@code SequentialEngine.run}: every vCPU runs one
   * batch of {@code quantum} accesses (its guest entry at the batch start), the schedule's steps
   * one after another (the vCPUs of one VM in index order), the lanes of a step (one vCPU of each
   * VM) concurrently; once every batch is answered the simulated clock is recomputed from the
   * counters ({@link SimClock}), and KSM runs the batches, and the KSM series takes the samples,
   * that the schedule says are due.
   */
  private void runLockstep(
      Guardian.Wiring w, MeshRunResults results, Tally t, long cowStart, IntConsumer afterRound) {
    LockstepSchedule schedule = LockstepSchedule.of(spec.vms(), spec.vcpusPerVm(), cfg);
    Lane[][] lanes = new Lane[spec.vms()][spec.vcpusPerVm()];
    for (int vm = 0; vm < spec.vms(); vm++) {
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        lanes[vm][v] =
            new Lane(vm, v, w.vcpus().get(vm).get(v), spec.sourceFor(vm, v), cfg.quantum());
      }
    }
    while (schedule.active()) {
      int ran = 0;
      for (List<LockstepSchedule.Lane> step : schedule.steps()) {
        List<Lane> running = new ArrayList<>();
        List<List<AccessOp>> sent = new ArrayList<>();
        List<CompletableFuture<Vcpu.BatchReply>> replies = new ArrayList<>();
        for (LockstepSchedule.Lane at : step) {
          Lane l = lanes[at.vm()][at.vcpu()];
          List<AccessOp> ops = l.next();
          if (ops == null) {
            schedule.finished(at);
          } else {
            running.add(l);
            sent.add(ops);
            replies.add(sendBatch(l, ops));
          }
        }
        for (int i = 0; i < running.size(); i++) {
          count(
              t,
              running.get(i),
              sent.get(i),
              awaitBatch(running.get(i), sent.get(i), replies.get(i)));
        }
        ran += running.size();
      }
      if (ran == 0) {
        break; // every source was exhausted at the round's start
      }
      long cow = results.frameStats().getOrDefault("COW_BREAKS", 0L) - cowStart;
      t.clock = SimClock.nanos(cfg.costs(), t.sum(-1), cow);
      LockstepSchedule.Due due = schedule.endRound(t.clock);
      for (int b = 0; b < due.ksmBatches(); b++) {
        ksmBatch(w);
      }
      if (due.samples() > 0) {
        KsmSample s = results.sample(t.clock);
        for (int i = 0; i < due.samples(); i++) {
          t.samples.add(s);
        }
      }
      afterRound.accept(schedule.rounds());
    }
    t.samples.add(results.sample(t.clock));
  }

  private CompletableFuture<Vcpu.BatchReply> sendBatch(Lane l, List<AccessOp> ops) {
    long batchId = l.batchId;
    return AskPattern.<Vcpu.Command, Vcpu.BatchReply>ask(
            l.ref,
            r -> new Vcpu.RunBatch(batchId, ops, r),
            MeshEngine.RESEND_AFTER,
            system.scheduler())
        .toCompletableFuture();
  }

  /**
   * The batch's answer; unanswered batches are sent again with the same id (the vCPU joins the
   * running batch or answers its last one again), up to {@link #BATCH_ATTEMPTS} times; null when
   * none came.
   */
  private Vcpu.BatchReply awaitBatch(
      Lane l, List<AccessOp> ops, CompletableFuture<Vcpu.BatchReply> first) {
    CompletableFuture<Vcpu.BatchReply> f = first;
    for (int attempt = 1; ; attempt++) {
      try {
        return f.get(MeshEngine.RESEND_AFTER.toMillis() + 1000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("mesh: interrupted waiting for a batch", e);
      } catch (ExecutionException | TimeoutException e) {
        if (attempt >= BATCH_ATTEMPTS) {
          return null;
        }
        f = sendBatch(l, ops);
      }
    }
  }

  /** Counts a batch's accesses once: as the vCPU reports them, or all failed. */
  private static void count(Tally t, Lane l, List<AccessOp> ops, Vcpu.BatchReply reply) {
    if (reply instanceof Vcpu.BatchDone d) {
      t.completed += d.completed();
      t.failed += d.failed();
      t.failures(d.failures());
      t.counters[l.vm][l.vcpu] = d.counters();
    } else {
      String why =
          reply instanceof Vcpu.Rejected r
              ? "rejected: " + r.reason()
              : "no answer after " + BATCH_ATTEMPTS + " attempts";
      t.failed += ops.size();
      t.failures(List.of("vm " + l.vm + " vcpu " + l.vcpu + " batch " + l.batchId + " " + why));
    }
  }

  /**
   * One ksmd batch of {@code pages_to_scan} pages ({@code ksm_do_scan}) through the host's {@code
   * PageFrame} ({@code KsmScan}: continued past each merge handshake with the remaining budget, as
   * ksmd's timer batches are); the same step the API's {@code RunKsmBatch} takes.
   */
  private void ksmBatch(Guardian.Wiring w) {
    if (cfg.ksmPagesToScan() == 0) {
      return; // ksm_do_scan(0)
    }
    asks.call(
        w.frames(),
        (Long id, ActorRef<PageFrame.KsmReply> r) ->
            new PageFrame.KsmScan(id, cfg.ksmPagesToScan(), r),
        PageFrame.KsmScanned.class);
  }

  /**
   * Pipelined drivers ({@link MeshEngine#BATCH} accesses per batch, {@link
   * MeshEngine#MAX_OUTSTANDING} outstanding per vCPU) with ksmd on its own wall-clock timer ({@code
   * pages_to_scan} and {@code sleep_millisecs} from the configuration), stopped ({@code run} 0,
   * merges kept) once every driver is done.
   */
  private void runFree(Guardian.Wiring w, MeshRunResults results, Tally t, long cowStart) {
    control(w.frames(), (id, r) -> new PageFrame.KsmSetPagesToScan(id, cfg.ksmPagesToScan(), r));
    List<List<CompletableFuture<Driver.Outcome>>> done = new ArrayList<>();
    List<CompletableFuture<Driver.Outcome>> all = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      List<CompletableFuture<Driver.Outcome>> row = new ArrayList<>();
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        CompletableFuture<Driver.Outcome> f = new CompletableFuture<>();
        row.add(f);
        all.add(f);
      }
      done.add(List.copyOf(row));
    }
    system.tell(
        new Guardian.Start(
            spec,
            MeshEngine.BATCH,
            MeshEngine.MAX_OUTSTANDING,
            MeshEngine.RESEND_AFTER,
            List.copyOf(done)));
    for (CompletableFuture<Driver.Outcome> f : all) {
      Driver.Outcome o = MeshAsks.await(f, RUN, "the drivers");
      t.completed += o.completed();
      t.failed += o.failed();
      t.failures(o.failures());
      t.counters[o.vm()][o.vcpu()] = o.counters();
    }
    control(w.frames(), (id, r) -> new PageFrame.KsmSetRun(id, KsmScanner.RUN_STOP, r));
    long cow = results.frameStats().getOrDefault("COW_BREAKS", 0L) - cowStart;
    t.clock = SimClock.nanos(cfg.costs(), t.sum(-1), cow);
    t.samples.add(results.sample(t.clock));
  }

  /** Sends a ksmd control to the host's PageFrame and expects {@code KsmControlDone}. */
  private void control(
      ActorRef<PageFrame.Command> frames,
      BiFunction<Long, ActorRef<PageFrame.KsmReply>, PageFrame.Command> m) {
    asks.call(frames, m, PageFrame.KsmControlDone.class);
  }
}
