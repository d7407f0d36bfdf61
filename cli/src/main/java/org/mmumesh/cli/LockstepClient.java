package org.mmumesh.cli;

import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.LockstepSchedule;
import org.mmumesh.engine.RunFailures;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.VmStats;
import org.mmumesh.gateway.ProtoMapping;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.Counter;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.Fingerprints;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetKsmCountersRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.KsmRun;
import org.mmumesh.proto.v1.KsmServiceGrpc;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Runs a workload on a gateway over gRPC exactly as the sequential engine runs it, so a remote run
 * reproduces {@code mmumesh run}'s numbers: the lockstep of {@code SequentialEngine.run} (and of
 * the mesh's own {@code MeshCluster} lockstep) driven from outside, through the public API only.
 *
 * <ol>
 *   <li>A host, ksmd set to {@code run} 1 with {@code pages_to_scan} 0 (its own timer then scans
 *       nothing: this client paces it), VMs {@code 0 .. vms-1} with the workload's memory layout,
 *       the configuration's options (explicit quirks) and TLB size, their boot image, then the
 *       warm-up passes ({@code RunKsmPasses}).
 *   <li>Rounds of the {@link LockstepSchedule}: every vCPU runs one batch of {@code quantum}
 *       accesses through its own {@code RunWorkload} stream, the schedule's steps one after another
 *       (the vCPUs of one VM in index order, one vCPU of each VM at once); once every batch is
 *       answered the host's {@code simulated_nanos} ({@code GetHostStats}: the engine's clock over
 *       the counters) says how many ksmd wake-ups are due, one {@code RunKsmBatch} of {@code
 *       pages_to_scan} pages per {@code sleep_millisecs}; the KSM series is sampled at the engine's
 *       points.
 *   <li>The end state: per-VM counters ({@code GetVmStats}), host and KSM counters, as a {@link
 *       RunResult} (its {@code loadDigest} is 0: loaded values are not returned by batches).
 * </ol>
 *
 * VM ids matter (each VM's host MMU numbers its contexts from the VM id), so the VMs are {@code 0
 * .. vms-1} as in the engine, and VM ids are never reused on a server: a run needs a server where
 * they are free.
 */
final class LockstepClient {
  /** The longest a round's batch or any call may take. */
  private static final long TIMEOUT_SECONDS = 120;

  private static final int LOAD_CHUNK = 4096;

  private final Channel channel;
  private final WorkloadSpec spec;
  private final EngineConfig cfg;
  private final int hostId;
  private final HostServiceGrpc.HostServiceBlockingStub hosts;
  private final VmServiceGrpc.VmServiceBlockingStub vms;
  private final KsmServiceGrpc.KsmServiceBlockingStub ksm;

  /**
   * A run of {@code spec} under {@code cfg} on host {@code hostId} of the gateway at {@code ch}.
   */
  LockstepClient(Channel ch, WorkloadSpec spec, EngineConfig cfg, int hostId) {
    this.channel = ch;
    this.spec = spec;
    this.cfg = cfg;
    this.hostId = hostId;
    this.hosts = HostServiceGrpc.newBlockingStub(ch);
    this.vms = VmServiceGrpc.newBlockingStub(ch);
    this.ksm = KsmServiceGrpc.newBlockingStub(ch);
  }

  /**
   * Runs the workload; {@code progress} (may be null) is told the accesses answered so far after
   * every round.
   *
   * @throws io.grpc.StatusRuntimeException when the gateway refuses a step
   * @throws IllegalStateException when a batch is not answered in time
   */
  RunResult run(LongConsumer progress) {
    setUp();
    List<KsmSample> samples = new ArrayList<>();
    samples.add(sample(0));
    LockstepSchedule schedule = LockstepSchedule.of(spec.vms(), spec.vcpusPerVm(), cfg);
    Lane[][] lanes = new Lane[spec.vms()][spec.vcpusPerVm()];
    for (int vm = 0; vm < spec.vms(); vm++) {
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        lanes[vm][v] = new Lane(vm, v);
      }
    }
    long clock = 0;
    long answered = 0;
    RunFailures failures = new RunFailures();
    try {
      while (schedule.active()) {
        int ran = 0;
        for (List<LockstepSchedule.Lane> step : schedule.steps()) {
          List<Lane> running = new ArrayList<>();
          for (LockstepSchedule.Lane at : step) {
            Lane l = lanes[at.vm()][at.vcpu()];
            if (l.send()) {
              running.add(l);
            } else {
              schedule.finished(at);
            }
          }
          for (Lane l : running) {
            RunWorkloadResponse r = l.await();
            answered += r.getCompleted() + r.getFailed();
            for (String f : r.getFailuresList()) {
              failures.add("vm " + l.vm + " vcpu " + l.vcpu + ": " + f);
            }
          }
          ran += running.size();
        }
        if (ran == 0) {
          break; // every source was exhausted at the round's start
        }
        clock = hostCounters().getOrDefault("simulated_nanos", 0L);
        LockstepSchedule.Due due = schedule.endRound(clock);
        for (int b = 0; b < due.ksmBatches(); b++) {
          ksm.runKsmBatch(
              RunKsmBatchRequest.newBuilder()
                  .setHostId(hostId)
                  .setPages(cfg.ksmPagesToScan())
                  .build());
        }
        if (due.samples() > 0) {
          KsmSample s = sample(clock);
          for (int i = 0; i < due.samples(); i++) {
            samples.add(s);
          }
        }
        if (progress != null) {
          progress.accept(answered);
        }
      }
    } finally {
      for (Lane[] row : lanes) {
        for (Lane l : row) {
          l.close();
        }
      }
    }
    samples.add(sample(clock));
    return collect(samples, clock, failures.kept());
  }

  /** Accesses the whole run makes. */
  long expectedAccesses() {
    long n = 0;
    for (int vm = 0; vm < spec.vms(); vm++) {
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        n += spec.sourceFor(vm, v).expectedAccesses();
      }
    }
    return n;
  }

  private void setUp() {
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    boolean is64 = spec.mmu() == org.mmumesh.workload.MmuKind.BOOK3S_64;
    long frames = Math.min(1L << 24, 2L * spec.vms() * layout.memoryPages() + 1024);
    hosts.createHost(
        CreateHostRequest.newBuilder()
            .setHostId(hostId)
            .setHostMmu(cfg.host32() ? HostMmuKind.HOST_MMU_KIND_32 : HostMmuKind.HOST_MMU_KIND_64)
            .setMaxFrames(frames)
            .build());
    ksm.setKsmControl(
        SetKsmControlRequest.newBuilder()
            .setHostId(hostId)
            .setPagesToScan(0)
            .setSleepMillisecs(cfg.ksmSleepMillisecs())
            .setRun(KsmRun.KSM_RUN_MERGE)
            .build());
    for (int vm = 0; vm < spec.vms(); vm++) {
      vms.createVm(
          CreateVmRequest.newBuilder()
              .setVmId(vm)
              .setHostId(hostId)
              .setMmuKind(is64 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
              .setMemorySizeBytes(layout.memoryPages() << 12)
              .setVcpuCount(spec.vcpusPerVm())
              .setOptions(ProtoMapping.toProto(cfg.options()))
              .setTlbEntries(cfg.tlbEntries())
              .setKsmMergeable(true)
              .build());
    }
    if (spec.image().isPresent()) {
      for (int vm = 0; vm < spec.vms(); vm++) {
        load(vm, spec.image().get());
      }
    }
    if (cfg.ksmWarmupPasses() > 0) {
      ksm.runKsmPasses(
          RunKsmPassesRequest.newBuilder()
              .setHostId(hostId)
              .setPasses(cfg.ksmWarmupPasses())
              .build());
    }
  }

  private void load(int vm, GuestImage image) {
    for (int from = 0; from < image.pages(); from += LOAD_CHUNK) {
      int n = Math.min(LOAD_CHUNK, image.pages() - from);
      long[] fps = new long[n];
      image.copyTo(from, fps, 0, n);
      Fingerprints.Builder f = Fingerprints.newBuilder();
      for (long x : fps) {
        f.addValues(x);
      }
      vms.loadMemory(
          LoadMemoryRequest.newBuilder()
              .setVm(VmRef.newBuilder().setVmId(vm))
              .setGuestFrameStart(from)
              .setFingerprints(f)
              .build());
    }
  }

  private Map<String, Long> hostCounters() {
    return counters(
        hosts
            .getHostStats(GetHostStatsRequest.newBuilder().setHostId(hostId).build())
            .getCountersList());
  }

  private Map<String, Long> ksmCounters() {
    return counters(
        ksm.getKsmCounters(GetKsmCountersRequest.newBuilder().setHostId(hostId).build())
            .getCountersList());
  }

  private KsmSample sample(long clock) {
    Map<String, Long> k = ksmCounters();
    Map<String, Long> f = hostCounters();
    return KsmSample.of(
        clock, k, f.getOrDefault("frames_saved_by_ksm", 0L), f.getOrDefault("frames_saved", 0L));
  }

  /** The end state as the sequential engine reports a run. */
  private RunResult collect(List<KsmSample> samples, long clock, List<String> failures) {
    VmStats totals = new VmStats();
    List<VmStats> perVm = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      Map<String, Long> c =
          counters(
              vms.getVmStats(
                      GetVmStatsRequest.newBuilder().setVm(VmRef.newBuilder().setVmId(vm)).build())
                  .getCountersList());
      Map<org.mmumesh.common.Counter, Long> stats = new EnumMap<>(org.mmumesh.common.Counter.class);
      for (org.mmumesh.common.Counter s : org.mmumesh.common.Counter.RUN) {
        stats.put(s, c.getOrDefault(s.name().toLowerCase(Locale.ROOT), 0L));
      }
      VmStats v = VmStats.of(stats);
      perVm.add(v);
      totals.addAll(v);
    }
    Map<String, Long> fs = hostCounters();
    Map<String, Long> kc = ksmCounters();
    Map<String, Long> host = new LinkedHashMap<>();
    for (String k :
        List.of(
            "cow_breaks",
            "cow_ksm",
            "zero_page_maps",
            "fresh_allocations",
            "notifier_events",
            "frames_in_use")) {
      host.put(k, fs.getOrDefault(k, 0L));
    }
    long visited = kc.getOrDefault("pages_visited", 0L);
    host.put("ksm_pages_visited", visited);
    host.put("ksm_full_scans", kc.getOrDefault("full_scans", 0L));
    host.put("ksmd_cpu_ns", visited * cfg.costs().ksmPageVisitNs());
    return new RunResult(
        cfg.options(),
        spec.name(),
        totals,
        List.copyOf(perVm),
        java.util.Collections.unmodifiableMap(host),
        List.copyOf(samples),
        clock,
        0,
        List.copyOf(failures),
        0);
  }

  static Map<String, Long> counters(List<Counter> rows) {
    Map<String, Long> m = new TreeMap<>();
    for (Counter c : rows) {
      m.merge(c.getName().toLowerCase(Locale.ROOT), c.getValue(), Long::sum);
    }
    return m;
  }

  /** One vCPU's RunWorkload stream, one batch of {@code quantum} accesses per round. */
  private final class Lane {
    final int vm;
    final int vcpu;
    final VcpuRef ref;
    final AccessSource source;
    final AccessBatch batch;
    StreamObserver<RunWorkloadRequest> requests;
    volatile CompletableFuture<RunWorkloadResponse> pending;
    final CompletableFuture<Void> finished = new CompletableFuture<>();
    long batchId;
    boolean done;

    Lane(int vm, int vcpu) {
      this.vm = vm;
      this.vcpu = vcpu;
      this.ref = VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(vcpu).build();
      this.source = spec.sourceFor(vm, vcpu);
      this.batch = new AccessBatch(cfg.quantum());
    }

    /** Sends the next batch; false when the source is exhausted. */
    boolean send() {
      if (done) {
        return false;
      }
      int n = source.fill(batch);
      if (n == 0) {
        done = true;
        return false;
      }
      if (requests == null) {
        requests = AccessServiceGrpc.newStub(channel).runWorkload(new Answers());
      }
      pending = new CompletableFuture<>();
      requests.onNext(WorkloadBatches.encode(ref, ++batchId, batch, n));
      return true;
    }

    RunWorkloadResponse await() {
      try {
        return pending.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for vm " + vm + " vcpu " + vcpu, e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw new IllegalStateException(e.getCause());
      } catch (TimeoutException e) {
        throw new IllegalStateException(
            "vm "
                + vm
                + " vcpu "
                + vcpu
                + ": batch "
                + batchId
                + " not answered in "
                + TIMEOUT_SECONDS
                + " s",
            e);
      }
    }

    /** Closes the request side and waits for the server to finish the stream. */
    void close() {
      if (requests == null) {
        return;
      }
      requests.onCompleted();
      try {
        finished.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // the stream's outcome was reported through the batches already
      }
    }

    private final class Answers implements StreamObserver<RunWorkloadResponse> {
      @Override
      public void onNext(RunWorkloadResponse r) {
        pending.complete(r);
      }

      @Override
      public void onError(Throwable t) {
        pending.completeExceptionally(t);
        finished.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        pending.completeExceptionally(
            new IllegalStateException("the server ended vm " + vm + " vcpu " + vcpu + "'s stream"));
        finished.complete(null);
      }
    }
  }
}
