package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.mmumesh.common.Counts;
import org.mmumesh.common.Quirk;
import org.mmumesh.engine.SimClock;
import org.mmumesh.engine.SimCosts;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.hostmmu.HostMmu;
import org.mmumesh.ksm.Ksm;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.Vcpu;
import org.mmumesh.vcpu.VcpuParking;

/**
 * The {@link Simulation} over the actor mesh, driven from one node: hosts and VMs are registered on
 * every node's {@link MeshDirectory} and created through {@link MeshVms} (the path static runs
 * take), and every other call is one or a few asks to the entities through this node's {@link
 * NodeGlue}, each with a fresh request id and the configured timeout.
 *
 * <p><b>Checks before anything is sent.</b> Every call looks its host or VM up in this node's
 * directory first (NOT_FOUND when unknown: an entity addressed before its VM is registered would
 * reject everything for good), checks a vCPU index against the VM's vCPU count, and an effective
 * address against a 32-bit guest's 32 bits. What only an actor can check (an SLB entry on a 32-bit
 * guest, a missing segment) comes back as the actor's {@code Rejected}, which changed nothing, and
 * is answered BAD_FIELD (or NOT_FOUND where the API says so) with the actor's reason.
 *
 * <p><b>State of its own</b> (guarded by this object): the VM ids ever used (VM and host ids are
 * not reused within a cluster's lifetime: a deleted VM's entities keep running with the old
 * configuration, sharded entities cannot be stopped cleanly across nodes), each VM's memslots and
 * their last generation, and each vCPU's batch numbering (the {@code Vcpu} requires increasing
 * batch ids; a workload stream's own ids are echoed by the gateway). One facade per cluster: two
 * facades on different nodes would not see each other's memslot tables.
 *
 * <p><b>Admission.</b> A create is admitted ({@link Admission}: the host and VM limits, counting
 * those being created, and the node's {@link MemoryBudget}, reserving the projected footprint of
 * {@link FootprintEstimator}) in the same synchronized step as its id checks, before its
 * asynchronous directory write; a delete gives the admission back. A failed create gives it back
 * only once the host or VM certainly never appears: at once when its directory write was never
 * sent; otherwise the write may still land (an ask that timed out under load is not a write that
 * did not happen), so the create first removes the id from every node (a tombstone, which refuses
 * any later put of it, see {@link MeshDirectory}) and frees the slot when that removal answered; if
 * it does not answer, the slot stays held (the id is never reused anyway). A failed create is
 * answered with its own failure, never with the limit.
 *
 * <p>{@link #traceAccess} and {@link #setVcpuState} go through the {@code Vcpu} ({@code
 * TraceAccess}, {@code SetState}), which must be idle (or paused, for a state change). Deleting a
 * VM removes its memslots and halts its vCPUs; the host frames it populated stay allocated (the
 * page frames model no process teardown).
 */
public final class MeshSimulation implements Simulation {
  /** Hosts at most (alive or being created at once, cluster-wide as this facade sees it). */
  public static final int MAX_HOSTS = 64;

  /** VMs at most (alive or being created at once). */
  public static final int MAX_VMS = 256;

  /**
   * Asks a batch is sent before it counts as failed (each waits {@link MeshEngine#RESEND_AFTER}).
   */
  static final int BATCH_ATTEMPTS = 12;

  private static final long EA32 = 0xFFFF_FFFFL;

  private final ActorSystem<?> system;
  private final NodeGlue glue;
  private final MeshDirectory dir;
  private final MeshVms vms;
  private final Duration timeout;
  private final AtomicLong ids = new AtomicLong(1L << 40);

  private final Set<Integer> usedHostIds = new HashSet<>();
  private final Set<Integer> usedVmIds = new HashSet<>();

  /** VMs admitted whose entry this node's directory does not show yet, with their host frames. */
  private final Map<Integer, PendingVm> pendingVms = new HashMap<>();

  private final Map<Integer, TreeMap<Integer, Slot>> slots = new HashMap<>();
  private final Map<Integer, Long> generations = new HashMap<>();
  private final ConcurrentHashMap<Long, AtomicLong> batchIds = new ConcurrentHashMap<>();
  private final Admission admission;
  private final Set<Long> startedVcpus = ConcurrentHashMap.newKeySet();

  /**
   * A facade asking from {@code system} (whose glue is {@code glue}), each ask within {@code
   * timeout}, admitting hosts and VMs within {@code budget}.
   */
  MeshSimulation(ActorSystem<?> system, NodeGlue glue, Duration timeout, MemoryBudget budget) {
    this.system = Objects.requireNonNull(system, "system");
    this.glue = Objects.requireNonNull(glue, "glue");
    this.dir = glue.directory();
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.vms = new MeshVms(system, glue, timeout, ids);
    this.admission =
        new Admission(
            MAX_HOSTS,
            MAX_VMS,
            Objects.requireNonNull(budget, "budget"),
            Admission.Directory.of(dir));
  }

  @Override
  public MemoryBudget memoryBudget() {
    return admission.budget();
  }

  /** A VM being created: its host and the frames its memory commits there. */
  private record PendingVm(int hostId, long pages) {}

  /**
   * The frames of host {@code hostId} committed to VMs: those in the directory and those being
   * created that it does not show yet (each counted once). Holds this object's lock.
   */
  private long committedFrames(int hostId) {
    pendingVms.keySet().removeIf(id -> dir.vm(id).isPresent() || dir.vmDeleted(id));
    long n = 0;
    for (MeshDirectory.VmEntry v : dir.vms()) {
      if (v.hostId() == hostId) {
        n += v.memoryPages();
      }
    }
    for (PendingVm p : pendingVms.values()) {
      if (p.hostId() == hostId) {
        n += p.pages();
      }
    }
    return n;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The prefix the {@code Vcpu} puts before a {@code GuestMmu} rejection's reason. */
  private static final String GUEST_MMU_REJECTED = "guest MMU rejected: ";

  /** Attempts of a vCPU command while the vCPU is still starting (fetching its mode). */
  static final int STARTING_ATTEMPTS = 100;

  /**
   * {@code attempt} again (after {@value MeshVms#FIND_RETRY_MILLIS} ms) while the vCPU answers that
   * it is still {@code STARTING}: a freshly started vCPU asks its GuestMmu for its mode first and
   * refuses state changes and traced accesses until then.
   */
  private <R> CompletionStage<R> whileStarting(Supplier<CompletionStage<R>> attempt, int n) {
    return attempt
        .get()
        .thenCompose(
            reply -> {
              if (n < STARTING_ATTEMPTS
                  && reply instanceof Vcpu.Rejected rej
                  && rej.state() == Vcpu.VcpuState.STARTING) {
                CompletableFuture<Void> later = new CompletableFuture<>();
                system
                    .scheduler()
                    .scheduleOnce(
                        Duration.ofMillis(MeshVms.FIND_RETRY_MILLIS),
                        () -> later.complete(null),
                        system.executionContext());
                return later.thenCompose(x -> whileStarting(attempt, n + 1));
              }
              return CompletableFuture.completedFuture(reply);
            });
  }

  /**
   * vCPU {@code vcpu} of VM {@code vmId}, for a command that starts it (a batch, a traced access, a
   * state change, a halt, a locate): remembered, so that reading counters never starts a vCPU
   * ({@link #vcpuCounters}).
   */
  private ActorRef<Vcpu.Command> startVcpu(int vmId, int vcpu) {
    startedVcpus.add(((long) vmId << 32) | vcpu);
    return glue.vcpu(vmId, vcpu);
  }

  /**
   * The counters of vCPU {@code vcpu} of VM {@code vmId} without starting it: zeros for a vCPU this
   * facade never started (nothing ran on it; its TLB is not even allocated), the parked counters of
   * one parked on this node ({@link VcpuParking}), else the running vCPU's answer. (A vCPU parked
   * on another node is asked, which starts it there again: the parking store is node-local.)
   */
  private CompletableFuture<Counts> vcpuCounters(int vmId, int vcpu) {
    if (!startedVcpus.contains(((long) vmId << 32) | vcpu)) {
      return CompletableFuture.completedFuture(Counts.zero());
    }
    Optional<Counts> parked = VcpuParking.get(system).counters(Vcpu.entityId(vmId, vcpu));
    if (parked.isPresent()) {
      return CompletableFuture.completedFuture(parked.get());
    }
    return vms.<Vcpu.Command, Vcpu.StatusReport>ask(glue.vcpu(vmId, vcpu), Vcpu.GetCounters::new)
        .thenApply(Vcpu.StatusReport::counters)
        .toCompletableFuture();
  }

  private static <T> CompletionStage<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(t);
  }

  /** Runs {@code body}; a check it throws becomes the failed stage. */
  private static <T> CompletionStage<T> guarded(Supplier<CompletionStage<T>> body) {
    try {
      return body.get();
    } catch (RuntimeException e) {
      return failed(e);
    }
  }

  /** Attempts at removing a host or VM whose create failed after its write was sent. */
  static final int UNDO_ATTEMPTS = 3;

  /**
   * {@code write}, the asynchronous directory write of {@code what}, admitted; it calls its {@code
   * Runnable} right before the write is sent. When it fails, the admission is given back ({@code
   * free}) only once {@code what} certainly never appears: at once if nothing was sent; else after
   * {@code remove} (the id's removal from every node, a tombstone) answered, tried {@value
   * #UNDO_ATTEMPTS} times; if it never does, the slot stays held. The stage fails with the write's
   * own failure, after that.
   */
  private <T> CompletionStage<T> admitted(
      java.util.function.Function<Runnable, CompletionStage<T>> write,
      Supplier<CompletionStage<Void>> remove,
      Runnable free,
      String what) {
    java.util.concurrent.atomic.AtomicBoolean sent =
        new java.util.concurrent.atomic.AtomicBoolean();
    CompletionStage<T> w;
    try {
      w = write.apply(() -> sent.set(true));
    } catch (RuntimeException e) {
      w = failed(e);
    }
    return w.exceptionallyCompose(
        e -> {
          Throwable err =
              e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                  ? e.getCause()
                  : e;
          if (!sent.get()) {
            free.run();
            return failed(err);
          }
          return undo(remove, UNDO_ATTEMPTS)
              .handle(
                  (x, undoErr) -> {
                    if (undoErr == null) {
                      free.run();
                    } else {
                      system
                          .log()
                          .warn(
                              "{}: its create failed ({}) after its directory write was sent, and"
                                  + " removing it failed too ({}); its admission stays held",
                              what,
                              err,
                              undoErr);
                    }
                    return x;
                  })
              .thenCompose(x -> failed(err));
        });
  }

  /** {@code remove}, tried up to {@code n} times {@value MeshVms#FIND_RETRY_MILLIS} ms apart. */
  private CompletionStage<Void> undo(Supplier<CompletionStage<Void>> remove, int n) {
    CompletionStage<Void> r;
    try {
      r = remove.get();
    } catch (RuntimeException e) {
      r = failed(e);
    }
    if (n <= 1) {
      return r;
    }
    return r.exceptionallyCompose(
        e -> {
          CompletableFuture<Void> later = new CompletableFuture<>();
          system
              .scheduler()
              .scheduleOnce(
                  Duration.ofMillis(MeshVms.FIND_RETRY_MILLIS),
                  () -> later.complete(null),
                  system.executionContext());
          return later.thenCompose(x -> undo(remove, n - 1));
        });
  }

  private MeshDirectory.HostEntry host(int hostId) {
    return dir.host(hostId).orElseThrow(() -> SimulationException.notFound("host " + hostId));
  }

  private MeshDirectory.VmEntry vm(int vmId) {
    return dir.vm(vmId).orElseThrow(() -> SimulationException.notFound("vm " + vmId));
  }

  private MeshDirectory.VmEntry vcpu(int vmId, int vcpu) {
    MeshDirectory.VmEntry e = vm(vmId);
    if (vcpu < 0 || vcpu >= e.vcpus()) {
      throw SimulationException.notFound(
          "vm " + vmId + " vcpu " + vcpu + " (the VM has vcpus 0 .. " + (e.vcpus() - 1) + ")");
    }
    return e;
  }

  private static void ea(MeshDirectory.VmEntry e, String field, long ea) {
    if (!e.is64() && Long.compareUnsigned(ea, EA32) > 0) {
      throw SimulationException.badField(
          field,
          "0x"
              + Long.toHexString(ea)
              + " exceeds 32 bits on 32-bit vm "
              + e.vmId()
              + "; allowed 0 .. 0xffffffff");
    }
  }

  /** A {@code Rejected} turned into {@code kind} with the actor's reason. */
  private static <T> CompletionStage<T> rejectedAs(
      CompletionStage<T> s, SimulationException.Kind kind) {
    return s.exceptionallyCompose(
        e -> {
          Throwable t = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
          if (t instanceof SimulationException se
              && se.kind() == SimulationException.Kind.WRONG_STATE) {
            return failed(new SimulationException(kind, se.getMessage()));
          }
          return failed(t);
        });
  }

  private static Map<String, Long> lower(Map<String, Long> counters) {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.merge(k.toLowerCase(Locale.ROOT), v, Long::sum));
    return out;
  }

  // ---- hosts -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Void> createHost(int hostId, boolean host32, long maxFrames) {
    return guarded(
        () -> {
          synchronized (this) {
            if (usedHostIds.contains(hostId)
                || dir.host(hostId).isPresent()
                || dir.hostDeleted(hostId)) {
              throw SimulationException.alreadyExists(
                  "host "
                      + hostId
                      + " already exists (or existed: host ids are not reused within a cluster's"
                      + " lifetime)");
            }
            admission.admitHost(hostId);
            usedHostIds.add(hostId);
          }
          return admitted(
              sending ->
                  vms.putHost(new MeshDirectory.HostEntry(hostId, host32, maxFrames), sending),
              () -> vms.removeHost(hostId),
              () -> admission.hostFailed(hostId),
              "host " + hostId);
        });
  }

  @Override
  public CompletionStage<Void> deleteHost(int hostId) {
    return guarded(
        () -> {
          host(hostId);
          synchronized (this) {
            List<Integer> on = new ArrayList<>();
            for (MeshDirectory.VmEntry v : dir.vms()) {
              if (v.hostId() == hostId) {
                on.add(v.vmId());
              }
            }
            committedFrames(hostId); // drops the pending VMs the directory shows
            for (Map.Entry<Integer, PendingVm> p : pendingVms.entrySet()) {
              if (p.getValue().hostId() == hostId) {
                on.add(p.getKey());
              }
            }
            if (!on.isEmpty()) {
              throw SimulationException.wrongState(
                  "host " + hostId + " still has vms " + on + "; delete them first");
            }
          }
          return vms.removeHost(hostId).thenRun(() -> admission.hostDeleted(hostId));
        });
  }

  @Override
  public CompletionStage<List<HostInfo>> listHosts() {
    List<HostInfo> out = new ArrayList<>();
    List<MeshDirectory.VmEntry> all = dir.vms();
    for (MeshDirectory.HostEntry h : dir.hosts()) {
      List<Integer> on = new ArrayList<>();
      for (MeshDirectory.VmEntry v : all) {
        if (v.hostId() == h.hostId()) {
          on.add(v.vmId());
        }
      }
      out.add(new HostInfo(h.hostId(), h.host32(), h.maxFrames(), List.copyOf(on)));
    }
    return CompletableFuture.completedFuture(List.copyOf(out));
  }

  @Override
  public CompletionStage<Map<String, Long>> hostStats(int hostId) {
    return guarded(
        () -> {
          host(hostId);
          List<CompletableFuture<Counts>> reports = new ArrayList<>();
          for (MeshDirectory.VmEntry e : dir.vms()) {
            if (e.hostId() != hostId) {
              continue;
            }
            for (int v = 0; v < e.vcpus(); v++) {
              reports.add(vcpuCounters(e.vmId(), v));
            }
          }
          CompletableFuture<PageFrame.StatsReply> frames =
              vms.<PageFrame.Command, PageFrame.StatsReply>ask(
                      glue.frames(hostId), PageFrame.GetStats::new)
                  .toCompletableFuture();
          return CompletableFuture.allOf(reports.toArray(new CompletableFuture<?>[0]))
              .thenCombine(
                  frames,
                  (x, s) -> {
                    Map<String, Long> m = lower(s.counters());
                    long leases = 0;
                    for (int n : s.leasesHeld().values()) {
                      leases += n;
                    }
                    m.put("leases_held", leases);
                    Counts sum = Counts.zero();
                    for (CompletableFuture<Counts> r : reports) {
                      sum = sum.plus(r.join());
                    }
                    // The sequential engine's clock (SimClock) over the host's VMs and its COW
                    // copies: a client stepping KSM by simulated time reads it after each round.
                    m.put(
                        "simulated_nanos",
                        SimClock.nanos(
                            SimCosts.defaults(), sum, s.counters().getOrDefault("COW_BREAKS", 0L)));
                    return m;
                  });
        });
  }

  // ---- VMs -------------------------------------------------------------------------------------

  private VmInfo info(MeshDirectory.VmEntry e) {
    List<Slot> s;
    synchronized (this) {
      s = List.copyOf(slots.getOrDefault(e.vmId(), new TreeMap<>()).values());
    }
    VmConfig c =
        new VmConfig(
            e.vmId(),
            e.hostId(),
            e.is64(),
            e.memoryPages(),
            e.vcpus(),
            e.options(),
            e.tlbEntries(),
            e.mergeable());
    return new VmInfo(c, e.htabOrigin(), e.htabBytes(), s);
  }

  @Override
  public CompletionStage<VmInfo> createVm(VmConfig c) {
    return guarded(
        () -> {
          MeshDirectory.HostEntry h = host(c.hostId());
          MeshDirectory.VmEntry e;
          try {
            e =
                MeshDirectory.ofApi(
                    c.vmId(),
                    h,
                    c.is64(),
                    c.memoryPages(),
                    c.vcpus(),
                    c.options(),
                    c.tlbEntries(),
                    c.mergeable());
          } catch (IllegalArgumentException bad) {
            throw new SimulationException(SimulationException.Kind.BAD_FIELD, bad.getMessage());
          }
          synchronized (this) {
            if (usedVmIds.contains(c.vmId())
                || dir.vm(c.vmId()).isPresent()
                || dir.vmDeleted(c.vmId())) {
              throw SimulationException.alreadyExists(
                  "vm "
                      + c.vmId()
                      + " already exists (or existed: VM ids are not reused within a cluster's"
                      + " lifetime)");
            }
            long committed = committedFrames(c.hostId());
            if (committed + c.memoryPages() > h.maxFrames()) {
              throw SimulationException.limit(
                  "host "
                      + c.hostId()
                      + ": "
                      + committed
                      + " of its "
                      + h.maxFrames()
                      + " frames are committed to vms; this vm needs "
                      + c.memoryPages());
            }
            admission.admitVm(c.vmId(), FootprintEstimator.shape(e));
            usedVmIds.add(c.vmId());
            pendingVms.put(c.vmId(), new PendingVm(c.hostId(), c.memoryPages()));
          }
          return admitted(
                  sending -> vms.create(e, sending),
                  () -> vms.removeVm(c.vmId()),
                  () -> {
                    admission.vmFailed(c.vmId());
                    synchronized (this) {
                      pendingVms.remove(c.vmId());
                    }
                  },
                  "vm " + c.vmId())
              .whenComplete(
                  (gen, err) -> {
                    if (err == null) {
                      synchronized (this) {
                        TreeMap<Integer, Slot> t = new TreeMap<>();
                        t.put(0, new Slot(0, 0, e.memoryPages(), 0, false, gen));
                        slots.put(c.vmId(), t);
                        generations.put(c.vmId(), gen);
                      }
                    }
                  })
              .thenApply(gen -> info(e));
        });
  }

  @Override
  public CompletionStage<Void> deleteVm(int vmId) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          List<Integer> ids;
          synchronized (this) {
            ids = new ArrayList<>(slots.getOrDefault(vmId, new TreeMap<>()).keySet());
          }
          CompletableFuture<?> all = CompletableFuture.completedFuture(null);
          for (int slot : ids) {
            all = all.thenCompose(x -> removeSlot(vmId, slot).toCompletableFuture());
          }
          for (int v = 0; v < e.vcpus(); v++) {
            int n = v;
            if (!startedVcpus.contains(((long) vmId << 32) | v)) {
              continue; // never started: nothing to halt, and halting would start it
            }
            all =
                all.thenCompose(
                    x ->
                        vms.<Vcpu.Command, Vcpu.ControlReply>ask(startVcpu(vmId, n), Vcpu.Halt::new)
                            .toCompletableFuture());
          }
          return all.thenCompose(x -> vms.removeVm(vmId))
              .whenComplete(
                  (x, err) -> {
                    if (err == null) {
                      synchronized (this) {
                        slots.remove(vmId);
                        generations.remove(vmId);
                      }
                      admission.vmDeleted(vmId);
                    }
                  });
        });
  }

  @Override
  public CompletionStage<VmInfo> getVm(int vmId) {
    return guarded(() -> CompletableFuture.completedFuture(info(vm(vmId))));
  }

  @Override
  public CompletionStage<VmStats> vmStats(int vmId) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          List<CompletableFuture<Counts>> reports = new ArrayList<>();
          for (int v = 0; v < e.vcpus(); v++) {
            reports.add(vcpuCounters(vmId, v));
          }
          CompletableFuture<GuestMmu.KernelEvents> kernel =
              vms.<GuestMmu.Command, GuestMmu.KernelEvents>ask(
                      glue.vm(vmId).guest(), GuestMmu.GetKernelEvents::new)
                  .toCompletableFuture();
          return CompletableFuture.allOf(reports.toArray(new CompletableFuture<?>[0]))
              .thenCombine(
                  kernel,
                  (x, k) -> {
                    Counts sum = Counts.zero();
                    for (CompletableFuture<Counts> r : reports) {
                      sum = sum.plus(r.join());
                    }
                    long nanos = SimClock.nanos(SimCosts.defaults(), sum, 0);
                    Map<String, Long> out = new TreeMap<>(sum.toWireMap());
                    out.put("guest_demand_maps", k.demandMaps());
                    out.put("guest_evictions", k.evictions());
                    out.put("guest_slb_loads", k.slbLoads());
                    out.put("guest_prot_upgrades", k.protUpgrades());
                    out.put("guest_misreported", k.misreportedNotFound());
                    return new VmStats(e.options(), out, nanos);
                  });
        });
  }

  @Override
  public CompletionStage<Void> setVcpuState(int vmId, int vcpu, List<VcpuStateChange> changes) {
    return guarded(
        () -> {
          vcpu(vmId, vcpu);
          if (changes.isEmpty()) {
            return CompletableFuture.completedFuture(null);
          }
          // Through the vCPU (Vcpu.SetState): the GuestMmu applies the changes, the vCPU drops its
          // TLB and cached segment VSIDs and has the HostMmu flush its shadow entries.
          return whileStarting(
                  () ->
                      vms.<Vcpu.Command, Vcpu.StateReply>ask(
                          startVcpu(vmId, vcpu),
                          r -> new Vcpu.SetState(ids.incrementAndGet(), List.copyOf(changes), r)),
                  1)
              .thenApply(
                  reply -> {
                    if (reply instanceof Vcpu.Rejected rej) {
                      boolean state =
                          rej.reason().contains("not allowed in state")
                              || rej.state() == Vcpu.VcpuState.HALTED;
                      String why = rej.reason();
                      if (why.startsWith(GUEST_MMU_REJECTED)) {
                        why = why.substring(GUEST_MMU_REJECTED.length());
                      }
                      throw new SimulationException(
                          state
                              ? SimulationException.Kind.WRONG_STATE
                              : SimulationException.Kind.BAD_FIELD,
                          why);
                    }
                    return (Void) null;
                  });
        });
  }

  @Override
  public CompletionStage<Long> addSlot(int vmId, Slot s) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          synchronized (this) {
            TreeMap<Integer, Slot> t = slots.computeIfAbsent(vmId, k -> new TreeMap<>());
            if (t.containsKey(s.slotId())) {
              throw SimulationException.badField(
                  "memslot.slot_id", s.slotId() + " is taken in vm " + vmId);
            }
            for (Slot o : t.values()) {
              if (s.gfnStart() < o.gfnStart() + o.pages()
                  && o.gfnStart() < s.gfnStart() + s.pages()) {
                throw SimulationException.badField(
                    "memslot",
                    "gfns ["
                        + s.gfnStart()
                        + ", "
                        + (s.gfnStart() + s.pages())
                        + ") overlap slot "
                        + o.slotId()
                        + " ["
                        + o.gfnStart()
                        + ", "
                        + (o.gfnStart() + o.pages())
                        + ")");
              }
            }
            t.put(s.slotId(), s);
          }
          return rejectedAs(
                  vms.call(
                      glue.frames(e.hostId()),
                      (Long id, ActorRef<PageFrame.SlotReply> r) ->
                          new PageFrame.AddSlot(
                              id,
                              vmId,
                              s.slotId(),
                              s.gfnStart(),
                              s.pages(),
                              s.hostPageStart(),
                              s.readOnly(),
                              r),
                      PageFrame.SlotAdded.class),
                  SimulationException.Kind.BAD_FIELD)
              .whenComplete(
                  (added, err) -> {
                    synchronized (this) {
                      TreeMap<Integer, Slot> t = slots.get(vmId);
                      if (t == null) {
                        return;
                      }
                      if (err != null) {
                        t.remove(s.slotId());
                      } else {
                        t.put(
                            s.slotId(),
                            new Slot(
                                s.slotId(),
                                s.gfnStart(),
                                s.pages(),
                                s.hostPageStart(),
                                s.readOnly(),
                                added.generation()));
                        generations.put(vmId, added.generation());
                      }
                    }
                  })
              .thenApply(PageFrame.SlotAdded::generation);
        });
  }

  @Override
  public CompletionStage<Long> removeSlot(int vmId, int slotId) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          synchronized (this) {
            TreeMap<Integer, Slot> t = slots.get(vmId);
            if (t == null || !t.containsKey(slotId)) {
              throw SimulationException.notFound("vm " + vmId + " memslot " + slotId);
            }
          }
          return vms.call(
                  glue.frames(e.hostId()),
                  (Long id, ActorRef<PageFrame.SlotReply> r) ->
                      new PageFrame.RemoveSlot(id, vmId, slotId, r),
                  PageFrame.SlotUpdateCompleted.class)
              .thenApply(
                  done -> {
                    synchronized (this) {
                      TreeMap<Integer, Slot> t = slots.get(vmId);
                      if (t != null) {
                        t.remove(slotId);
                      }
                      long g = generations.getOrDefault(vmId, 0L) + 1;
                      generations.put(vmId, g);
                      return g;
                    }
                  });
        });
  }

  @Override
  public CompletionStage<Long> loadMemory(int vmId, long gfnStart, long[] fingerprints) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          requireInSlots(vmId, gfnStart, fingerprints.length);
          admission.chargeLoad(vmId, e.memoryPages(), e.mergeable(), gfnStart, fingerprints.length);
          List<CompletableFuture<PageFrame.Populated>> all = new ArrayList<>();
          for (int i = 0; i < fingerprints.length; i++) {
            long gfn = gfnStart + i;
            long fp = fingerprints[i];
            all.add(
                rejectedAs(
                        vms.call(
                            glue.frames(e.hostId()),
                            (Long id, ActorRef<PageFrame.PopulateReply> r) ->
                                new PageFrame.Populate(id, vmId, gfn, fp, r),
                            PageFrame.Populated.class),
                        SimulationException.Kind.BAD_FIELD)
                    .toCompletableFuture());
          }
          return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
              .thenApply(x -> (long) fingerprints.length);
        });
  }

  /**
   * Throws BAD_FIELD naming {@code guest_frame_start} unless every gfn of {@code [gfnStart,
   * gfnStart + pages)} is in a memslot of VM {@code vmId} (LoadMemory and ReadMemory alike).
   */
  private synchronized void requireInSlots(int vmId, long gfnStart, long pages) {
    long end = gfnStart + pages;
    long gfn = gfnStart;
    boolean moved = true;
    while (gfn < end && moved) {
      moved = false;
      for (Slot s : slots.getOrDefault(vmId, new TreeMap<>()).values()) {
        if (gfn >= s.gfnStart() && gfn < s.gfnStart() + s.pages()) {
          gfn = s.gfnStart() + s.pages();
          moved = true;
        }
      }
    }
    if (gfn < end) {
      throw SimulationException.badField(
          "guest_frame_start",
          "gfn "
              + gfn
              + " of ["
              + gfnStart
              + ", "
              + end
              + ") is in no memslot of vm "
              + vmId
              + "; allowed: gfns of its memslots");
    }
  }

  /**
   * Refuses a range that leaves the VM's memslots, as {@link #loadMemory} does. Reads in chunks of
   * {@link PageFrame#READ_FRAMES_CHUNK} pages, one after the other: the page frames may run on
   * another node, and a larger {@code FramesRead} would exceed the transport's frame size (and is
   * refused beyond {@link PageFrame#MAX_READ_FRAMES}). A count of at most one chunk (also a bad
   * one, which the page frames reject naming the field) is one request.
   */
  @Override
  public CompletionStage<long[]> readMemory(int vmId, long gfnStart, int pages) {
    return guarded(
        () -> {
          ActorRef<PageFrame.Command> frames = glue.frames(vm(vmId).hostId());
          if (pages > 0) {
            requireInSlots(vmId, gfnStart, pages); // a bad count is the page frames' to name
          }
          if (pages <= PageFrame.READ_FRAMES_CHUNK) {
            return readChunk(frames, vmId, gfnStart, pages);
          }
          long[] out = new long[pages];
          CompletionStage<long[]> s = CompletableFuture.completedFuture(out);
          for (int off = 0; off < pages; off += PageFrame.READ_FRAMES_CHUNK) {
            int at = off;
            int n = Math.min(PageFrame.READ_FRAMES_CHUNK, pages - off);
            s =
                s.thenCompose(
                    a ->
                        readChunk(frames, vmId, gfnStart + at, n)
                            .thenApply(
                                f -> {
                                  System.arraycopy(f, 0, a, at, n);
                                  return a;
                                }));
          }
          return s;
        });
  }

  /** One {@link PageFrame.ReadFrames} of {@code count} pages (at most one chunk). */
  private CompletionStage<long[]> readChunk(
      ActorRef<PageFrame.Command> frames, int vmId, long gfnStart, int count) {
    return rejectedAs(
            vms.call(
                frames,
                (Long id, ActorRef<PageFrame.FramesReply> r) ->
                    new PageFrame.ReadFrames(id, vmId, gfnStart, count, r),
                PageFrame.FramesRead.class),
            SimulationException.Kind.BAD_FIELD)
        .thenApply(
            f -> {
              if (f.fingerprints().length != count) {
                throw new IllegalStateException(
                    "mesh: ReadFrames of "
                        + count
                        + " pages at gfn "
                        + gfnStart
                        + " answered "
                        + f.fingerprints().length);
              }
              return f.fingerprints();
            });
  }

  @Override
  public CompletionStage<Long> insertHpte(int vmId, int vcpu, long ea, long gfn, int pp) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vcpu(vmId, vcpu);
          ea(e, "effective_addr", ea);
          if (gfn >= e.memoryPages()) {
            throw SimulationException.badField(
                "guest_frame",
                gfn + " is beyond vm " + vmId + "'s memory; allowed 0 .. " + (e.memoryPages() - 1));
          }
          return rejectedAs(
                  vms.call(
                      glue.vm(vmId).guest(),
                      (Long id, ActorRef<GuestMmu.EnterReply> r) ->
                          new GuestMmu.EnterHpte(id, vcpu, ea, gfn, pp, r),
                      GuestMmu.HpteEntered.class),
                  SimulationException.Kind.BAD_FIELD)
              .thenApply(
                  h -> {
                    if (h.pteAddr() < 0) {
                      throw SimulationException.wrongState(
                          "vm "
                              + vmId
                              + ": both PTEGs of 0x"
                              + Long.toHexString(ea)
                              + " are full (no eviction for a client)");
                    }
                    return h.pteAddr();
                  });
        });
  }

  @Override
  public CompletionStage<Void> removeHpte(int vmId, int vcpu, long ea) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", ea);
          return rejectedAs(
                  vms.call(
                      glue.vm(vmId).guest(),
                      (Long id, ActorRef<GuestMmu.RemoveReply> r) ->
                          new GuestMmu.RemoveHpte(id, vcpu, ea, r),
                      GuestMmu.HpteRemoved.class),
                  SimulationException.Kind.BAD_FIELD)
              .thenApply(
                  h -> {
                    if (!h.removed()) {
                      throw SimulationException.notFound(
                          "a guest HPTE translating 0x"
                              + Long.toHexString(ea)
                              + " for vm "
                              + vmId
                              + " vcpu "
                              + vcpu);
                    }
                    return (Void) null;
                  });
        });
  }

  @Override
  public CompletionStage<Rc> readRc(int vmId, int vcpu, long ea) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", ea);
          return rejectedAs(
                  vms.call(
                      glue.vm(vmId).guest(),
                      (Long id, ActorRef<GuestMmu.RcReply> r) ->
                          new GuestMmu.ReadRc(id, vcpu, ea, r),
                      GuestMmu.RcOf.class),
                  SimulationException.Kind.NOT_FOUND)
              .thenApply(rc -> new Rc(rc.r(), rc.c()));
        });
  }

  @Override
  public CompletionStage<Rc> clearRc(int vmId, int vcpu, long ea, boolean clearR, boolean clearC) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", ea);
          return rejectedAs(
                  vms.call(
                      glue.vm(vmId).guest(),
                      (Long id, ActorRef<GuestMmu.RcReply> r) ->
                          new GuestMmu.ClearRc(id, vcpu, ea, clearR, clearC, r),
                      GuestMmu.RcOf.class),
                  SimulationException.Kind.NOT_FOUND)
              .thenApply(rc -> new Rc(rc.r(), rc.c()));
        });
  }

  // ---- accesses --------------------------------------------------------------------------------

  @Override
  public CompletionStage<BatchResult> runBatch(int vmId, int vcpu, List<Vcpu.AccessOp> ops) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vcpu(vmId, vcpu);
          if (!e.is64()) {
            for (int i = 0; i < ops.size(); i++) {
              if (Long.compareUnsigned(ops.get(i).ea(), EA32) > 0) {
                ea(e, "accesses[" + i + "].effective_addr", ops.get(i).ea()); // throws
              }
            }
          }
          long batchId =
              batchIds
                  .computeIfAbsent(((long) vmId << 32) | vcpu, k -> new AtomicLong())
                  .incrementAndGet();
          List<Vcpu.AccessOp> copy = List.copyOf(ops);
          return sendBatch(startVcpu(vmId, vcpu), batchId, copy, 1)
              .thenApply(
                  reply -> {
                    if (reply instanceof Vcpu.BatchDone d) {
                      return new BatchResult(
                          d.completed(),
                          d.failed(),
                          d.failures(),
                          new TreeMap<>(d.counters().toWireMap()));
                    }
                    throw SimulationException.wrongState(
                        "vm "
                            + vmId
                            + " vcpu "
                            + vcpu
                            + " refused the batch: "
                            + ((Vcpu.Rejected) reply).reason());
                  });
        });
  }

  /** Sends a batch, again with the same id while unanswered (the vCPU joins or re-answers it). */
  private CompletionStage<Vcpu.BatchReply> sendBatch(
      ActorRef<Vcpu.Command> to, long batchId, List<Vcpu.AccessOp> ops, int attempt) {
    return org.apache.pekko.actor.typed.javadsl.AskPattern.<Vcpu.Command, Vcpu.BatchReply>ask(
            to,
            r -> new Vcpu.RunBatch(batchId, ops, r),
            MeshEngine.RESEND_AFTER,
            system.scheduler())
        .exceptionallyCompose(
            err -> {
              if (attempt >= BATCH_ATTEMPTS) {
                return failed(
                    new SimulationException(
                        SimulationException.Kind.TIMEOUT,
                        "batch "
                            + batchId
                            + " unanswered after "
                            + attempt
                            + " attempts of "
                            + MeshEngine.RESEND_AFTER));
              }
              return sendBatch(to, batchId, ops, attempt + 1);
            });
  }

  @Override
  public CompletionStage<org.mmumesh.vcpu.AccessTrace> traceAccess(
      int vmId, int vcpu, Vcpu.AccessOp op) {
    return guarded(
        () -> {
          ea(vcpu(vmId, vcpu), "effective_addr", op.ea());
          return whileStarting(
                  () ->
                      vms.<Vcpu.Command, Vcpu.TraceReply>ask(
                          startVcpu(vmId, vcpu),
                          r -> new Vcpu.TraceAccess(ids.incrementAndGet(), op, r)),
                  1)
              .thenApply(
                  reply -> {
                    if (reply instanceof Vcpu.AccessTraced t) {
                      return t.trace();
                    }
                    Vcpu.Rejected rej = (Vcpu.Rejected) reply;
                    throw new SimulationException(
                        rej.reason().contains("not allowed in state")
                                || rej.state() == Vcpu.VcpuState.HALTED
                            ? SimulationException.Kind.WRONG_STATE
                            : SimulationException.Kind.BAD_FIELD,
                        rej.reason());
                  });
        });
  }

  // ---- KSM -------------------------------------------------------------------------------------

  @Override
  public CompletionStage<KsmControl> ksmControl(
      int hostId, Integer run, Long pagesToScan, Long sleep) {
    return guarded(
        () -> {
          host(hostId);
          ActorRef<Ksm.Command> k = glue.ksm(hostId);
          // pages_to_scan, sleep_millisecs, then run: each one Ksm control, in order
          List<java.util.function.BiFunction<Long, ActorRef<Ksm.ControlReply>, Ksm.Command>> steps =
              new ArrayList<>();
          if (pagesToScan != null) {
            steps.add((id, r) -> new Ksm.SetPagesToScan(id, pagesToScan, r));
          }
          if (sleep != null) {
            steps.add((id, r) -> new Ksm.SetSleepMillisecs(id, sleep, r));
          }
          if (run != null) {
            steps.add((id, r) -> new Ksm.SetRun(id, run, r));
          }
          CompletionStage<?> s = CompletableFuture.completedFuture(null);
          for (var step : steps) {
            s = s.thenCompose(x -> vms.call(k, step, Ksm.ControlDone.class));
          }
          // the controls as ksmd now has them (another gateway may have set the others)
          return rejectedAs(s, SimulationException.Kind.BAD_FIELD)
              .thenCompose(
                  x ->
                      vms.call(
                          k,
                          (Long id, ActorRef<Ksm.CountersReply> r) -> new Ksm.GetCounters(id, r),
                          Ksm.Counters.class))
              .thenApply(
                  c ->
                      new KsmControl(
                          c.counters().getOrDefault("run", 0L).intValue(),
                          c.counters().getOrDefault("pages_to_scan", 0L),
                          c.counters().getOrDefault("sleep_millisecs", 0L)));
        });
  }

  @Override
  public CompletionStage<Map<String, Long>> ksmPasses(int hostId, int passes) {
    return ksmStep(
        hostId,
        (Long id, ActorRef<Ksm.FullScansReply> r) -> new Ksm.FullScans(id, passes, r),
        Ksm.FullScansDone.class);
  }

  @Override
  public CompletionStage<Map<String, Long>> ksmBatch(int hostId, long pages) {
    return ksmStep(
        hostId,
        (Long id, ActorRef<Ksm.ScanBatchReply> r) -> new Ksm.ScanBatch(id, pages, r),
        Ksm.ScanBatchDone.class);
  }

  /** A KSM step of the host's ksmd (passes or one batch), then its counters. */
  private <R> CompletionStage<Map<String, Long>> ksmStep(
      int hostId,
      java.util.function.BiFunction<Long, ActorRef<R>, Ksm.Command> step,
      Class<?> done) {
    return guarded(
        () -> {
          host(hostId);
          return vms.call(glue.ksm(hostId), step, done).thenCompose(d -> ksmCounters(hostId));
        });
  }

  @Override
  public CompletionStage<Map<String, Long>> ksmCounters(int hostId) {
    return guarded(
        () -> {
          host(hostId);
          return vms.call(
                  glue.ksm(hostId),
                  (Long id, ActorRef<Ksm.CountersReply> r) -> new Ksm.GetCounters(id, r),
                  Ksm.Counters.class)
              .thenApply(c -> lower(c.counters()));
        });
  }

  // ---- cluster ---------------------------------------------------------------------------------

  @Override
  public CompletionStage<InvariantReport> checkInvariants() {
    return guarded(
        () -> {
          List<MeshDirectory.HostEntry> hostList = dir.hosts();
          List<MeshDirectory.VmEntry> vmList = dir.vms();
          List<CompletableFuture<List<String>>> parts = new ArrayList<>();
          for (MeshDirectory.HostEntry h : hostList) {
            int hostId = h.hostId();
            parts.add(
                vms.<PageFrame.Command, PageFrame.InvariantsReply>ask(
                        glue.frames(hostId), PageFrame.CheckInvariants::new)
                    .thenApply(
                        r -> r.violations().stream().map(v -> "host " + hostId + ": " + v).toList())
                    .toCompletableFuture());
            parts.add(
                vms.call(
                        glue.ksm(hostId),
                        (Long id, ActorRef<Ksm.CountersReply> r) -> new Ksm.GetCounters(id, r),
                        Ksm.Counters.class)
                    .thenApply(
                        c ->
                            c.violations().stream()
                                .map(v -> "host " + hostId + " ksm: " + v)
                                .toList())
                    .toCompletableFuture());
            parts.add(writableShared(hostId, vmList));
          }
          for (MeshDirectory.VmEntry e : vmList) {
            int vmId = e.vmId();
            parts.add(
                vms.<HostMmu.Command, HostMmu.InvariantsReply>ask(
                        glue.vm(vmId).host(), HostMmu.CheckInvariants::new)
                    .thenApply(
                        r -> r.violations().stream().map(v -> "vm " + vmId + ": " + v).toList())
                    .toCompletableFuture());
          }
          return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]))
              .thenApply(
                  x -> {
                    List<String> out = new ArrayList<>();
                    parts.forEach(p -> out.addAll(p.join()));
                    return new InvariantReport(List.copyOf(out), hostList.size(), vmList.size());
                  });
        });
  }

  /**
   * No present writable shadow entry maps a frame that another guest page of the host maps ({@link
   * MeshCluster#writableSharedFrames}); not checked when a VM of the host has quirk Q8, whose
   * deferred flush may leave such an entry until the vCPU's next guest entry.
   */
  private CompletableFuture<List<String>> writableShared(
      int hostId, List<MeshDirectory.VmEntry> all) {
    List<MeshDirectory.VmEntry> mine = all.stream().filter(e -> e.hostId() == hostId).toList();
    if (mine.stream().anyMatch(e -> e.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH))) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<CompletableFuture<HostMmu.ShadowDumped>> dumps = new ArrayList<>();
    for (MeshDirectory.VmEntry e : mine) {
      dumps.add(
          vms.<HostMmu.Command, HostMmu.ShadowDumped>ask(
                  glue.vm(e.vmId()).host(), HostMmu.DumpShadow::new)
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(dumps.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            x -> {
              List<String> lines =
                  MeshCluster.writableSharedFrames(
                      dumps.stream().map(d -> d.join().dump()).toList());
              // writableSharedFrames numbers VMs by their place in the list: name them by id
              List<String> out = new ArrayList<>();
              for (String line : lines) {
                out.add("host " + hostId + " (vms " + ids(mine) + " in this order): " + line);
              }
              return out;
            });
  }

  private static String ids(List<MeshDirectory.VmEntry> vms) {
    return vms.stream().map(e -> String.valueOf(e.vmId())).collect(Collectors.joining(","));
  }

  @Override
  public CompletionStage<Members> members() {
    Cluster c = Cluster.get(system);
    List<Member> out = new ArrayList<>();
    for (org.apache.pekko.cluster.Member m : c.state().getMembers()) {
      Set<String> roles = new TreeSet<>(m.getRoles());
      roles.removeIf(r -> r.startsWith("dc-"));
      out.add(new Member(m.address().toString(), roles, m.status().toString()));
    }
    return CompletableFuture.completedFuture(
        new Members(List.copyOf(out), c.selfMember().address().toString()));
  }

  @Override
  public CompletionStage<Location> locate(String type, String id) {
    return guarded(
        () -> {
          CompletionStage<?> poke;
          try {
            switch (type) {
              case "PageFrame" -> {
                int h = PageFrame.hostOf(id);
                host(h);
                poke =
                    vms.<PageFrame.Command, PageFrame.StatsReply>ask(
                        glue.frames(h), PageFrame.GetStats::new);
              }
              case "Ksm" -> {
                int h = Ksm.hostOf(id);
                host(h);
                poke = ksmCounters(h);
              }
              case "GuestMmu" -> {
                int v = GuestMmu.vmOf(id);
                vm(v);
                poke =
                    vms.<GuestMmu.Command, GuestMmu.KernelEvents>ask(
                        glue.vm(v).guest(), GuestMmu.GetKernelEvents::new);
              }
              case "HostMmu" -> {
                int v = HostMmu.vmOf(id);
                vm(v);
                poke =
                    vms.<HostMmu.Command, HostMmu.StatsReply>ask(
                        glue.vm(v).host(), HostMmu.GetStats::new);
              }
              case "Vcpu" -> {
                int[] vv = Vcpu.vmAndVcpuOf(id);
                vcpu(vv[0], vv[1]);
                poke =
                    vms.<Vcpu.Command, Vcpu.StatusReport>ask(
                        startVcpu(vv[0], vv[1]), Vcpu.GetCounters::new);
              }
              default ->
                  throw SimulationException.badField(
                      "entity_type",
                      "'"
                          + type
                          + "' is not allowed; use PageFrame, Ksm, GuestMmu, HostMmu or Vcpu");
            }
          } catch (IllegalArgumentException bad) {
            throw SimulationException.badField("entity_id", bad.getMessage());
          }
          return poke.thenCompose(x -> vms.locate(type, id))
              .thenApply(
                  l -> {
                    if (l == null) {
                      throw new SimulationException(
                          SimulationException.Kind.UNAVAILABLE,
                          type + " " + id + ": no node reports it running yet; try again");
                    }
                    return new Location(l.nodeAddress(), l.shardId());
                  });
        });
  }
}
