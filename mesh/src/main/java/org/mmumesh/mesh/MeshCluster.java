package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.Quirk;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SimClock;
import org.mmumesh.engine.VmStats;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.hostmmu.HostMmu;
import org.mmumesh.hostmmu.HostMmuStats;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.ksm.Ksm;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.Vcpu;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.WorkloadSpec;

/**
 * A running mesh: one or more Pekko cluster nodes in this JVM, each an actor system named {@value
 * MeshEngine#SYSTEM_NAME} whose root is a {@link Guardian} configured by the node's own {@link
 * MeshDirectory} (a static run registers its workload's host and VMs there through {@link MeshVms},
 * the path run-time VMs take too), joined into one cluster (node 0 joins itself, the others join
 * node 0; {@code pekko.cluster.min-nr-of-members} is the node count, so that {@link #start} returns
 * only when every node is Up). Node 0 drives: {@link #run} creates the VMs on the page frames
 * through node 0's forwarders, spawns the {@link Driver}s there and collects the results.
 *
 * <p>With one node holding every role this is the embedded default ({@link
 * MeshEngine#run(WorkloadSpec, EngineConfig)}); with several nodes of different roles (each on a
 * free loopback port) every message between entities on different nodes crosses Artery and goes
 * through the CBOR serializer. {@link #close} shuts every node down (CoordinatedShutdown through
 * {@code terminate}) and waits for each.
 */
public final class MeshCluster implements AutoCloseable {
  private static final Duration ASK = Duration.ofSeconds(30);
  private static final Duration RUN = Duration.ofMinutes(10);

  private static final int MAX_FAILURES_KEPT = VcpuCore.MAX_FAILURES_KEPT;
  private static final int BATCH_ATTEMPTS = 12;

  private final WorkloadSpec spec;
  private final EngineConfig cfg;
  private final List<ActorSystem<Guardian.Command>> nodes;
  private final Duration shutdownTimeout;
  private boolean ran;
  private Guardian.Wiring wiring;
  private final java.util.concurrent.atomic.AtomicLong nextId =
      new java.util.concurrent.atomic.AtomicLong();
  private long invariantChecks;

  private MeshCluster(
      WorkloadSpec spec,
      EngineConfig cfg,
      List<ActorSystem<Guardian.Command>> nodes,
      Duration shutdownTimeout) {
    this.spec = spec;
    this.cfg = cfg;
    this.nodes = nodes;
    this.shutdownTimeout = shutdownTimeout;
  }

  /**
   * The embedded default: one node configured by {@link MeshEngine#config} ({@code mmumesh.mesh.*}
   * keys), holding every role.
   *
   * @throws IllegalArgumentException when {@code mmumesh.mesh.roles} lacks a role, or the
   *     configuration does not fit the workload
   * @throws IllegalStateException when the node is not Up within {@code
   *     mmumesh.mesh.startup-timeout}
   */
  public static MeshCluster embedded(WorkloadSpec spec, EngineConfig cfg) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(cfg, "cfg");
    return startNodes(spec, cfg, List.of(embeddedConfig(ConfigFactory.empty())));
  }

  /**
   * The embedded single node without a workload, for a simulation whose hosts and VMs are created
   * at run time ({@link #simulation}); {@code overrides} go on top of {@link MeshEngine#config}
   * (e.g. {@code mmumesh.mesh.port}). {@link #run} is refused on it.
   *
   * @throws IllegalArgumentException when {@code mmumesh.mesh.roles} lacks a role
   * @throws IllegalStateException when the node is not Up within {@code
   *     mmumesh.mesh.startup-timeout}
   */
  public static MeshCluster embeddedSimulation(Config overrides) {
    return startNodes(null, null, List.of(embeddedConfig(overrides)));
  }

  private static Config embeddedConfig(Config overrides) {
    Config config = MeshEngine.config(overrides);
    Set<String> roles = new TreeSet<>(config.getStringList("mmumesh.mesh.roles"));
    if (!roles.containsAll(MeshEngine.ALL_ROLES)) {
      throw new IllegalArgumentException(
          "mmumesh.mesh.roles: "
              + roles
              + " on the only node leaves entities unplaced; required: "
              + MeshEngine.ALL_ROLES);
    }
    return config;
  }

  /**
   * {@code nodeRoles.size()} nodes in this JVM, each on a free loopback port with the given roles
   * (a subset of {@link MeshEngine#ALL_ROLES}); node 0 drives.
   *
   * @throws IllegalArgumentException when {@code nodeRoles} is empty, names an unknown role, or
   *     leaves a role on no node; or when the configuration does not fit the workload
   * @throws IllegalStateException when the nodes are not all Up within {@code
   *     mmumesh.mesh.startup-timeout}
   */
  public static MeshCluster start(
      WorkloadSpec spec, EngineConfig cfg, List<? extends Set<String>> nodeRoles) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(cfg, "cfg");
    return startNodes(spec, cfg, nodeConfigs(nodeRoles));
  }

  /**
   * {@code nodeRoles.size()} nodes as {@link #start}, without a workload: hosts and VMs are created
   * at run time through {@link #simulation}, registered on every node.
   */
  public static MeshCluster startSimulation(List<? extends Set<String>> nodeRoles) {
    return startNodes(null, null, nodeConfigs(nodeRoles));
  }

  private static List<Config> nodeConfigs(List<? extends Set<String>> nodeRoles) {
    Objects.requireNonNull(nodeRoles, "nodeRoles");
    if (nodeRoles.isEmpty()) {
      throw new IllegalArgumentException("nodeRoles: empty; allowed: 1 or more nodes");
    }
    Set<String> covered = new TreeSet<>();
    for (Set<String> roles : nodeRoles) {
      for (String r : roles) {
        if (!MeshEngine.ALL_ROLES.contains(r)) {
          throw new IllegalArgumentException(
              "nodeRoles: unknown role '" + r + "'; allowed: " + MeshEngine.ALL_ROLES);
        }
      }
      covered.addAll(roles);
    }
    if (!covered.containsAll(MeshEngine.ALL_ROLES)) {
      throw new IllegalArgumentException(
          "nodeRoles: "
              + nodeRoles
              + " leaves a role on no node; required: "
              + MeshEngine.ALL_ROLES);
    }
    List<Config> configs = new ArrayList<>();
    for (Set<String> roles : nodeRoles) {
      configs.add(
          MeshEngine.config(
              ConfigFactory.empty()
                  .withValue("mmumesh.mesh.port", ConfigValueFactory.fromAnyRef(0))
                  .withValue(
                      "mmumesh.mesh.roles", ConfigValueFactory.fromIterable(new TreeSet<>(roles)))
                  .withValue(
                      "pekko.cluster.min-nr-of-members",
                      ConfigValueFactory.fromAnyRef(nodeRoles.size()))));
    }
    return configs;
  }

  private static MeshCluster startNodes(WorkloadSpec spec, EngineConfig cfg, List<Config> configs) {
    if (spec != null && cfg.host32() && spec.mmu() == MmuKind.BOOK3S_64) {
      throw new IllegalArgumentException(
          "host: a 64-bit guest cannot run on a 32-bit host (spec section 10); allowed: a 64-bit"
              + " host, or a 32-bit guest (mmu=32)");
    }
    Config first = configs.get(0);
    Duration startup = first.getDuration("mmumesh.mesh.startup-timeout");
    Duration shutdown = first.getDuration("mmumesh.mesh.shutdown-timeout");
    List<ActorSystem<Guardian.Command>> nodes = new ArrayList<>();
    MeshCluster cluster = new MeshCluster(spec, cfg, nodes, shutdown);
    try {
      List<CompletableFuture<Void>> up = new ArrayList<>();
      for (Config c : configs) {
        ActorSystem<Guardian.Command> node =
            ActorSystem.create(Guardian.create(new MeshDirectory()), MeshEngine.SYSTEM_NAME, c);
        nodes.add(node);
        CompletableFuture<Void> f = new CompletableFuture<>();
        org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(node))
            .registerOnMemberUp(() -> f.complete(null));
        up.add(f);
      }
      Address seed = cluster.address(0);
      for (ActorSystem<Guardian.Command> node : nodes) {
        Cluster.get(node).manager().tell(Join.create(seed));
      }
      for (int i = 0; i < up.size(); i++) {
        await(up.get(i), startup, "node " + i + " Up in the cluster");
      }
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** Node {@code node}'s glue (its directory, forwarders and adapters). */
  NodeGlue glue(int node) {
    ActorSystem<Guardian.Command> system = nodes.get(node);
    return ask(system, system, (ActorRef<NodeGlue> r) -> new Guardian.GetGlue(r));
  }

  /**
   * The simulation driven from node {@code node}: hosts and VMs created at run time, registered on
   * every node (see {@link MeshSimulation}). Each call gives a new facade; use one per cluster.
   */
  public MeshSimulation simulation(int node) {
    return new MeshSimulation(
        nodes.get(node),
        glue(node),
        ASK,
        MemoryBudget.fromConfig(nodes.get(node).settings().config()));
  }

  /**
   * Runs {@code task} in node {@code node}'s CoordinatedShutdown phase {@code service-unbind}: the
   * first phase, before the node leaves the cluster, shards hand off and the actors stop; where an
   * external API (the gRPC gateway) stops taking calls and drains them.
   */
  public void onServiceUnbind(int node, String name, Runnable task) {
    Objects.requireNonNull(task, "task");
    ActorSystem<Guardian.Command> system = nodes.get(node);
    org.apache.pekko.actor.CoordinatedShutdown.get(system)
        .addTask(
            org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceUnbind(),
            name,
            () ->
                CompletableFuture.supplyAsync(
                    () -> {
                      task.run();
                      return org.apache.pekko.Done.getInstance();
                    }));
  }

  /** Blocks until node 0's actor system terminated (after CoordinatedShutdown). */
  public void awaitTermination() throws InterruptedException {
    try {
      nodes.get(0).getWhenTerminated().toCompletableFuture().get();
    } catch (ExecutionException e) {
      // terminated anyway
    }
  }

  /** The number of nodes. */
  public int size() {
    return nodes.size();
  }

  /** Node {@code node}'s cluster address (its free port included). */
  public Address address(int node) {
    return Cluster.get(nodes.get(node)).selfMember().address();
  }

  /** Node {@code node}'s cluster roles (without Pekko's own {@code dc-<data center>} role). */
  public Set<String> roles(int node) {
    Set<String> roles = new TreeSet<>(Cluster.get(nodes.get(node)).selfMember().getRoles());
    roles.removeIf(r -> r.startsWith("dc-"));
    return roles;
  }

  /**
   * The ids of the entities of type {@code key} running on node {@code node} (its shard region's
   * state; empty on a node without the type's role, whose region is a proxy).
   */
  public Set<String> entityIds(int node, EntityTypeKey<?> key) {
    ActorSystem<Guardian.Command> system = nodes.get(node);
    ShardRegion.CurrentShardRegionState state =
        ask(
            system,
            ClusterSharding.get(system).shardState(),
            (ActorRef<ShardRegion.CurrentShardRegionState> r) -> new GetShardRegionState(key, r));
    Set<String> ids = new TreeSet<>();
    for (ShardRegion.ShardState s : state.getShards()) {
      ids.addAll(s.getEntityIds());
    }
    return ids;
  }

  /** {@link #run(MeshEngine.Pacing)} in {@link MeshEngine.Pacing#LOCKSTEP}. */
  public MeshResult run() {
    return run(MeshEngine.Pacing.LOCKSTEP);
  }

  /**
   * Runs the workload once, driven from node 0 (see {@link MeshEngine} for the steps and the two
   * pacings), and collects the counters, the KSM series, the frames of every gfn, the guest HTAB
   * words and the shadow caches.
   *
   * @throws IllegalStateException when called twice, or when the mesh does not answer (a setup step
   *     was refused, or a step timed out)
   */
  public MeshResult run(MeshEngine.Pacing pacing) {
    return run(pacing, round -> {});
  }

  /**
   * {@link #run(MeshEngine.Pacing)}, calling {@code afterRound} with the round number after every
   * lockstep round (every vCPU idle, KSM stepped, in the calling thread: it may call {@link
   * #invariantViolations()}); never called in {@link MeshEngine.Pacing#FREE}.
   */
  MeshResult run(MeshEngine.Pacing pacing, IntConsumer afterRound) {
    Objects.requireNonNull(pacing, "pacing");
    if (ran) {
      throw new IllegalStateException("run: already ran on this cluster; allowed once");
    }
    ran = true;
    if (spec == null) {
      throw new IllegalStateException(
          "run: this cluster was started without a workload; use simulation()");
    }
    ActorSystem<Guardian.Command> system = nodes.get(0);
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    // The workload's host and VMs, registered on every node and created on the page frames
    // through the same path as VMs created at run time.
    NodeGlue glue = glue(0);
    MeshVms vms = new MeshVms(system, glue, ASK, nextId);
    // ksmd's controls: run 1 (the sequential engine's scanner runs from the start), but with
    // pages_to_scan 0 the Ksm entity's own wall-clock timer scans nothing; this run paces ksmd.
    ActorRef<Ksm.Command> ksm = glue.ksm(Guardian.HOST);
    call(
        ksm,
        (Long id, ActorRef<Ksm.ControlReply> r) -> new Ksm.SetPagesToScan(id, 0, r),
        Ksm.ControlDone.class);
    call(
        ksm,
        (Long id, ActorRef<Ksm.ControlReply> r) ->
            new Ksm.SetSleepMillisecs(id, cfg.ksmSleepMillisecs(), r),
        Ksm.ControlDone.class);
    call(
        ksm,
        (Long id, ActorRef<Ksm.ControlReply> r) -> new Ksm.SetRun(id, KsmScanner.RUN_MERGE, r),
        Ksm.ControlDone.class);
    await(
        vms.putHost(new MeshDirectory.HostEntry(Guardian.HOST, cfg.host32(), Integer.MAX_VALUE))
            .toCompletableFuture(),
        ASK.plusSeconds(5),
        "the host registered on every node");
    for (int vm = 0; vm < spec.vms(); vm++) {
      await(
          vms.create(MeshDirectory.ofWorkload(spec, cfg, vm)).toCompletableFuture(),
          ASK.plusSeconds(5),
          "vm " + vm + " created");
    }
    Guardian.Wiring w =
        ask(
            system,
            system,
            (ActorRef<Guardian.Wiring> r) ->
                new Guardian.GetWiring(spec.vms(), spec.vcpusPerVm(), r));
    wiring = w;
    ActorRef<PageFrame.Command> pf = w.frames();
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      if (spec.image().isPresent()) {
        GuestImage image = spec.image().get();
        for (int p = 0; p < image.pages(); p++) {
          long gfn = p;
          long fp = image.fingerprint(p);
          call(
              pf,
              (Long id, ActorRef<PageFrame.PopulateReply> r) ->
                  new PageFrame.Populate(id, v, gfn, fp, r),
              PageFrame.Populated.class);
        }
      }
    }
    if (cfg.ksmWarmupPasses() > 0) {
      call(
          w.ksm(),
          (Long id, ActorRef<Ksm.FullScansReply> r) ->
              new Ksm.FullScans(id, cfg.ksmWarmupPasses(), r),
          Ksm.FullScansDone.class);
    }
    Tally t = new Tally(spec);
    long cowStart = frameStats(w).getOrDefault("COW_BREAKS", 0L);
    KsmSample first = sample(w, 0);
    t.samples.add(first);
    if (pacing == MeshEngine.Pacing.LOCKSTEP) {
      runLockstep(w, t, cowStart, afterRound);
    } else {
      runFree(w, t, cowStart);
    }
    return collect(w, layout, t);
  }

  /** Every vCPU's counters so far, and the accesses counted (each access once). */
  private static final class Tally {
    final Counts[][] counters;
    final List<String> failures = new ArrayList<>();
    final List<KsmSample> samples = new ArrayList<>();
    long completed;
    long failed;
    long clock;

    Tally(WorkloadSpec spec) {
      counters = new Counts[spec.vms()][spec.vcpusPerVm()];
    }

    void failures(List<String> more) {
      for (String f : more) {
        if (failures.size() < MAX_FAILURES_KEPT) {
          failures.add(f);
        }
      }
    }

    Counts sum(int vmOrAll) {
      Counts m = Counts.zero();
      for (int vm = 0; vm < counters.length; vm++) {
        if (vmOrAll >= 0 && vm != vmOrAll) {
          continue;
        }
        for (Counts c : counters[vm]) {
          if (c != null) {
            m = m.plus(c);
          }
        }
      }
      return m;
    }
  }

  /** One vCPU's access source, cut into batches of exactly {@code quantum} accesses. */
  private static final class Lane {
    final int vm;
    final int vcpu;
    final ActorRef<Vcpu.Command> ref;
    final AccessSource source;
    final AccessBatch batch;
    long batchId;
    boolean done;

    Lane(int vm, int vcpu, ActorRef<Vcpu.Command> ref, AccessSource source, int quantum) {
      this.vm = vm;
      this.vcpu = vcpu;
      this.ref = ref;
      this.source = source;
      this.batch = new AccessBatch(quantum);
    }

    /** The next batch's accesses, or null when the source is exhausted. */
    List<Vcpu.AccessOp> next() {
      int n = source.fill(batch);
      if (n == 0) {
        done = true;
        return null;
      }
      List<Vcpu.AccessOp> ops = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ops.add(new Vcpu.AccessOp(batch.kind(i), batch.ea(i), batch.value(i)));
      }
      batchId++;
      return List.copyOf(ops);
    }
  }

  /**
   * Rounds as {@code SequentialEngine.run}: every vCPU runs one batch of {@code quantum} accesses
   * (its guest entry at the batch start), all vCPUs concurrently; once every batch is answered the
   * simulated clock is recomputed from the counters ({@link SimClock}), KSM runs every batch due by
   * then (one per {@code sleep_millisecs} of simulated time, as {@code KsmScanner.advanceTo}), and
   * the KSM series is sampled at the engine's points.
   */
  private void runLockstep(Guardian.Wiring w, Tally t, long cowStart, IntConsumer afterRound) {
    List<Lane> lanes = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        lanes.add(new Lane(vm, v, w.vcpus().get(vm).get(v), spec.sourceFor(vm, v), cfg.quantum()));
      }
    }
    ActorSystem<Guardian.Command> system = nodes.get(0);
    long period = cfg.ksmSleepMillisecs() * 1_000_000L;
    long nextKsm = 0; // run became 1 at simulated time 0: ksmd wakes at once
    long nextSample = cfg.sampleIntervalNanos();
    int round = 0;
    while (true) {
      List<Lane> running = new ArrayList<>();
      List<List<Vcpu.AccessOp>> sent = new ArrayList<>();
      List<CompletableFuture<Vcpu.BatchReply>> replies = new ArrayList<>();
      for (Lane l : lanes) {
        List<Vcpu.AccessOp> ops = l.done ? null : l.next();
        if (ops != null) {
          running.add(l);
          sent.add(ops);
          replies.add(sendBatch(system, l, ops));
        }
      }
      if (running.isEmpty()) {
        break;
      }
      for (int i = 0; i < running.size(); i++) {
        count(
            t,
            running.get(i),
            sent.get(i),
            awaitBatch(system, running.get(i), sent.get(i), replies.get(i)));
      }
      round++;
      long cow = frameStats(w).getOrDefault("COW_BREAKS", 0L) - cowStart;
      t.clock = SimClock.nanos(cfg.costs(), t.sum(-1), cow);
      while (nextKsm <= t.clock) {
        ksmBatch(w);
        nextKsm += period;
      }
      if (t.clock >= nextSample) {
        KsmSample s = sample(w, t.clock);
        while (t.clock >= nextSample) {
          t.samples.add(s);
          nextSample += cfg.sampleIntervalNanos();
        }
      }
      afterRound.accept(round);
    }
    t.samples.add(sample(w, t.clock));
  }

  private CompletableFuture<Vcpu.BatchReply> sendBatch(
      ActorSystem<?> system, Lane l, List<Vcpu.AccessOp> ops) {
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
      ActorSystem<?> system,
      Lane l,
      List<Vcpu.AccessOp> ops,
      CompletableFuture<Vcpu.BatchReply> first) {
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
        f = sendBatch(system, l, ops);
      }
    }
  }

  /** Counts a batch's accesses once: as the vCPU reports them, or all failed. */
  private static void count(Tally t, Lane l, List<Vcpu.AccessOp> ops, Vcpu.BatchReply reply) {
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
   * One ksmd batch of {@code pages_to_scan} pages ({@code ksm_do_scan}) through the {@code Ksm}
   * entity ({@code Ksm.ScanBatch}: continued past each merge handshake with the remaining budget,
   * as the entity continues its timer's batches); the same step the API's {@code RunKsmBatch}
   * takes.
   */
  private void ksmBatch(Guardian.Wiring w) {
    if (cfg.ksmPagesToScan() == 0) {
      return; // ksm_do_scan(0)
    }
    call(
        w.ksm(),
        (Long id, ActorRef<Ksm.ScanBatchReply> r) -> new Ksm.ScanBatch(id, cfg.ksmPagesToScan(), r),
        Ksm.ScanBatchDone.class);
  }

  /**
   * Pipelined drivers ({@link MeshEngine#BATCH} accesses per batch, {@link
   * MeshEngine#MAX_OUTSTANDING} outstanding per vCPU) with ksmd on its own wall-clock timer ({@code
   * pages_to_scan} and {@code sleep_millisecs} from the configuration), stopped ({@code run} 0,
   * merges kept) once every driver is done.
   */
  private void runFree(Guardian.Wiring w, Tally t, long cowStart) {
    ActorSystem<Guardian.Command> system = nodes.get(0);
    control(w, (id, r) -> new Ksm.SetPagesToScan(id, cfg.ksmPagesToScan(), r));
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
      Driver.Outcome o = await(f, RUN, "the drivers");
      t.completed += o.completed();
      t.failed += o.failed();
      t.failures(o.failures());
      t.counters[o.vm()][o.vcpu()] = o.counters();
    }
    control(w, (id, r) -> new Ksm.SetRun(id, KsmScanner.RUN_STOP, r));
    long cow = frameStats(w).getOrDefault("COW_BREAKS", 0L) - cowStart;
    t.clock = SimClock.nanos(cfg.costs(), t.sum(-1), cow);
    t.samples.add(sample(w, t.clock));
  }

  private KsmSample sample(Guardian.Wiring w, long clock) {
    Map<String, Long> k = ksmCounters(w).counters();
    Map<String, Long> f = frameStats(w);
    return new KsmSample(
        clock,
        k.getOrDefault("pages_shared", 0L),
        k.getOrDefault("pages_sharing", 0L),
        k.getOrDefault("pages_unshared", 0L),
        k.getOrDefault("pages_volatile", 0L),
        k.getOrDefault("full_scans", 0L),
        f.getOrDefault("FRAMES_SAVED_BY_KSM", 0L),
        f.getOrDefault("FRAMES_SAVED", 0L));
  }

  private Ksm.Counters ksmCounters(Guardian.Wiring w) {
    return call(
        w.ksm(),
        (Long id, ActorRef<Ksm.CountersReply> r) -> new Ksm.GetCounters(id, r),
        Ksm.Counters.class);
  }

  private Map<String, Long> frameStats(Guardian.Wiring w) {
    return ask(
            nodes.get(0),
            w.frames(),
            (ActorRef<PageFrame.StatsReply> r) -> new PageFrame.GetStats(r))
        .counters();
  }

  /** The end state: frames, HTABs, shadow caches, counters, and the engine's RunResult. */
  private MeshResult collect(Guardian.Wiring w, GuestLayout layout, Tally t) {
    ActorSystem<Guardian.Command> system = nodes.get(0);
    List<long[]> frames = new ArrayList<>();
    List<long[]> addrs = new ArrayList<>();
    List<long[]> words = new ArrayList<>();
    List<ShadowDump> shadows = new ArrayList<>();
    List<VmStats> perVm = new ArrayList<>();
    Map<String, Long> hostMmu = new TreeMap<>();
    new HostMmuStats().toMap().keySet().forEach(k -> hostMmu.put(k, 0L));
    for (int vm = 0; vm < spec.vms(); vm++) {
      frames.add(readFrames(w, vm, (int) layout.memoryPages()));
      GuestMmu.HtabDumped h =
          call(
              w.guests().get(vm),
              (Long id, ActorRef<GuestMmu.HtabReply> r) -> new GuestMmu.DumpHtab(id, r),
              GuestMmu.HtabDumped.class);
      addrs.add(h.addrs());
      words.add(h.words());
      ShadowDump dump =
          ask(
                  system,
                  w.hosts().get(vm),
                  (ActorRef<HostMmu.ShadowDumped> r) -> new HostMmu.DumpShadow(r))
              .dump();
      shadows.add(dump);
      dump.counters().forEach((k, n) -> hostMmu.merge(k, n, Long::sum));
      GuestMmu.KernelEvents ke =
          ask(
              system,
              w.guests().get(vm),
              (ActorRef<GuestMmu.KernelEvents> r) -> new GuestMmu.GetKernelEvents(r));
      VmStats c = VmStats.of(t.sum(vm));
      c.addAll(
          VmStats.of(
              Map.of(
                  Counter.GUEST_DEMAND_MAPS, ke.demandMaps(),
                  Counter.GUEST_EVICTIONS, ke.evictions(),
                  Counter.GUEST_SLB_LOADS, ke.slbLoads(),
                  Counter.GUEST_PROT_UPGRADES, ke.protUpgrades(),
                  Counter.GUEST_MISREPORTED, ke.misreportedNotFound())));
      perVm.add(c);
    }
    Ksm.Counters kc = ksmCounters(w);
    Map<String, Long> fs = frameStats(w);
    Map<String, Long> host = new LinkedHashMap<>();
    host.put("cow_breaks", fs.getOrDefault("COW_BREAKS", 0L));
    host.put("cow_ksm", fs.getOrDefault("COW_KSM", 0L));
    host.put("zero_page_maps", fs.getOrDefault("ZERO_PAGE_MAPS", 0L));
    host.put("fresh_allocations", fs.getOrDefault("FRESH_ALLOCATIONS", 0L));
    host.put("notifier_events", fs.getOrDefault("NOTIFIER_EVENTS", 0L));
    host.put("frames_in_use", fs.getOrDefault("FRAMES_IN_USE", 0L));
    long visited = kc.counters().getOrDefault("pages_visited", 0L);
    host.put("ksm_pages_visited", visited);
    host.put("ksm_full_scans", kc.counters().getOrDefault("full_scans", 0L));
    host.put("ksmd_cpu_ns", visited * cfg.costs().ksmPageVisitNs());
    hostMmu.forEach((k, n) -> host.put("hostmmu_" + k, n));
    VmStats totals = new VmStats();
    for (VmStats s : perVm) {
      totals.addAll(s);
    }
    List<String> failures = List.copyOf(t.failures);
    RunResult rr =
        new RunResult(
            cfg.options(),
            spec.name(),
            totals,
            List.copyOf(perVm),
            Collections.unmodifiableMap(host),
            List.copyOf(t.samples),
            t.clock,
            0,
            failures,
            invariantChecks);
    return new MeshResult(
        t.sum(-1),
        t.completed,
        t.failed,
        failures,
        frames,
        addrs,
        words,
        perVm.stream().map(VmStats::toMap).map(Map::copyOf).toList(),
        List.copyOf(shadows),
        kc.counters(),
        kc.violations(),
        fs,
        rr);
  }

  /**
   * The architecture's invariants (section 5) as the mesh can check them, each violation named: the
   * page frames' ({@code PageFrame.CheckInvariants}: host PTEs, frame counts, no writable host PTE
   * on a shared frame), every VM's host MMU ({@code HostMmu.CheckInvariants}), the KSM scanner's
   * counters against a recount, and, since no actor answers which host frame is shared, across the
   * shadow caches: a writable shadow entry's frame is mapped by no other (vm, gfn). Call it while
   * the vCPUs are idle (after a lockstep round, or after the run).
   *
   * <p>The shadow-cache check is skipped under quirk Q8: there a notifier only requests a full
   * flush, and the HPTEs stay (harmlessly: the vCPU is out of the guest and must flush before it
   * enters again) until each vCPU's next guest entry, so an idle vCPU may legitimately hold a
   * writable HPTE of a frame since freed and reused; {@code HostMmu} does not say which vCPUs have
   * a flush pending, which the check would need to exclude their entries.
   *
   * <p>With {@code incremental} (after each lockstep round of {@code --check-invariants}), the page
   * frames, the KSM counters and each host MMU check only what changed since the previous
   * incremental check ({@code CheckInvariants(incremental)}: {@code PageFrames}, {@code KsmScanner}
   * and {@code HostMmuCore} say exactly what each covers), and the shadow-cache check, which needs
   * every VM's whole shadow state, runs only at rounds 1, 2, 4, 8 ... (so its cost stays a fraction
   * of the run's, whatever the run's length); the full check (every element, the shadow-cache check
   * included) runs once at the end of the run.
   */
  List<String> invariantViolations() {
    return invariantViolations(false, 0);
  }

  /**
   * {@link #invariantViolations()}, incrementally (see there) if {@code incremental}; {@code round}
   * (1 or more) picks the incremental checks that include the shadow-cache check.
   */
  List<String> invariantViolations(boolean incremental, int round) {
    Guardian.Wiring w = wiring;
    if (w == null) {
      throw new IllegalStateException("invariantViolations: the run has not started");
    }
    invariantChecks++;
    ActorSystem<Guardian.Command> system = nodes.get(0);
    List<String> out = new ArrayList<>();
    ask(
            system,
            w.frames(),
            (ActorRef<PageFrame.InvariantsReply> r) ->
                new PageFrame.CheckInvariants(incremental, r))
        .violations()
        .forEach(v -> out.add(v.startsWith("ksm: ") ? v : "page-frame: " + v));
    if (!incremental) {
      ksmCounters(w).violations().forEach(v -> out.add("ksm: " + v));
    }
    boolean shadowCheck =
        !cfg.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH)
            && (!incremental || Integer.bitCount(round) == 1);
    List<ShadowDump> dumps = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      ask(
              system,
              w.hosts().get(vm),
              (ActorRef<HostMmu.InvariantsReply> r) -> new HostMmu.CheckInvariants(incremental, r))
          .violations()
          .forEach(x -> out.add("host-mmu vm " + v + ": " + x));
      if (shadowCheck) {
        dumps.add(
            ask(
                    system,
                    w.hosts().get(vm),
                    (ActorRef<HostMmu.ShadowDumped> r) -> new HostMmu.DumpShadow(r))
                .dump());
      }
    }
    if (shadowCheck) {
      out.addAll(writableSharedFrames(dumps));
    }
    return out;
  }

  /**
   * Across the VMs' shadow caches ({@code dumps.get(vm)}): every host frame that a present,
   * writable shadow entry maps while another (vm, gfn) maps it too (architecture invariant 1 as the
   * shadow caches show it: a writable mapping of a shared frame), one line per frame.
   */
  static List<String> writableSharedFrames(List<ShadowDump> dumps) {
    Map<Long, Set<String>> owners = new TreeMap<>();
    Set<Long> writable = new TreeSet<>();
    for (int vm = 0; vm < dumps.size(); vm++) {
      for (List<ShadowDump.ShadowEntry> cache : dumps.get(vm).vcpus()) {
        for (ShadowDump.ShadowEntry e : cache) {
          if (e.hptePresent()) {
            owners
                .computeIfAbsent(e.pfn(), p -> new TreeSet<>())
                .add("vm " + vm + " gfn " + e.gfn());
            if (e.writable()) {
              writable.add(e.pfn());
            }
          }
        }
      }
    }
    List<String> out = new ArrayList<>();
    for (long pfn : writable) {
      Set<String> who = owners.get(pfn);
      if (who.size() > 1) {
        out.add("shadow: pfn " + pfn + " mapped writable, and shared by " + who);
      }
    }
    return out;
  }

  /** Sends a {@code Ksm} control and expects {@link Ksm.ControlDone}. */
  private void control(
      Guardian.Wiring w,
      java.util.function.BiFunction<Long, ActorRef<Ksm.ControlReply>, Ksm.Command> m) {
    call(w.ksm(), m, Ksm.ControlDone.class);
  }

  /**
   * VM {@code vm}'s fingerprints of gfns 0 to {@code pages - 1}, read in chunks of {@link
   * PageFrame#READ_FRAMES_CHUNK} (the page frames may run on another node: a larger reply would
   * exceed the transport's frame size).
   */
  private long[] readFrames(Guardian.Wiring w, int vm, int pages) {
    long[] out = new long[pages];
    for (int at = 0; at < pages; at += PageFrame.READ_FRAMES_CHUNK) {
      int start = at;
      int n = Math.min(PageFrame.READ_FRAMES_CHUNK, pages - at);
      long[] chunk =
          call(
                  w.frames(),
                  (Long id, ActorRef<PageFrame.FramesReply> r) ->
                      new PageFrame.ReadFrames(id, vm, start, n, r),
                  PageFrame.FramesRead.class)
              .fingerprints();
      System.arraycopy(chunk, 0, out, start, n);
    }
    return out;
  }

  /** An ask with a fresh request id, expecting a reply of {@code kind}. */
  private <Q, R, T> T call(
      RecipientRef<Q> to,
      java.util.function.BiFunction<Long, ActorRef<R>, Q> message,
      Class<T> kind) {
    long rid = nextId.incrementAndGet();
    return expect(ask(nodes.get(0), to, (ActorRef<R> r) -> message.apply(rid, r)), kind);
  }

  /**
   * Shuts every node down, the last started first (CoordinatedShutdown runs on each: shard
   * hand-off, leaving the cluster), waiting up to {@code mmumesh.mesh.shutdown-timeout} for each.
   */
  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).terminate();
    }
    for (int i = nodes.size() - 1; i >= 0; i--) {
      try {
        nodes
            .get(i)
            .getWhenTerminated()
            .toCompletableFuture()
            .get(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        // the run's result stands; the node is going away
      }
    }
  }

  private static <Q, R> R ask(
      ActorSystem<?> system, RecipientRef<Q> to, Function<ActorRef<R>, Q> message) {
    CompletionStage<R> s = AskPattern.ask(to, message::apply, ASK, system.scheduler());
    return await(s.toCompletableFuture(), ASK.plusSeconds(5), "an answer to an ask");
  }

  private static <T> T await(CompletableFuture<T> f, Duration timeout, String what) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("mesh: interrupted waiting for " + what, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "mesh: no "
              + what
              + " within "
              + timeout
              + ": "
              + (e.getCause() == null ? e : e.getCause()),
          e);
    }
  }

  private static <T> T expect(Object reply, Class<T> kind) {
    if (!kind.isInstance(reply)) {
      throw new IllegalStateException(
          "mesh setup: expected " + kind.getSimpleName() + " but got " + reply);
    }
    return kind.cast(reply);
  }
}
