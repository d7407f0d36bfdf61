package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
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
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.Vcpu;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.WorkloadSpec;

/**
 * A running mesh: one or more Pekko cluster nodes in this JVM, each an actor system named {@value
 * MeshEngine#SYSTEM_NAME} whose root is a {@link Guardian} for the same workload and configuration,
 * joined into one cluster (node 0 joins itself, the others join node 0; {@code
 * pekko.cluster.min-nr-of-members} is the node count, so that {@link #start} returns only when
 * every node is Up). Node 0 drives: {@link #run} creates the VMs on the page frames through node
 * 0's forwarders, spawns the {@link Driver}s there and collects the results.
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

  private final WorkloadSpec spec;
  private final List<ActorSystem<Guardian.Command>> nodes;
  private final Duration shutdownTimeout;
  private boolean ran;

  private MeshCluster(
      WorkloadSpec spec, List<ActorSystem<Guardian.Command>> nodes, Duration shutdownTimeout) {
    this.spec = spec;
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
    Config config = MeshEngine.config(ConfigFactory.empty());
    Set<String> roles = new TreeSet<>(config.getStringList("mmumesh.mesh.roles"));
    if (!roles.containsAll(MeshEngine.ALL_ROLES)) {
      throw new IllegalArgumentException(
          "mmumesh.mesh.roles: "
              + roles
              + " on the only node leaves entities unplaced; required: "
              + MeshEngine.ALL_ROLES);
    }
    return startNodes(spec, cfg, List.of(config));
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
    return startNodes(spec, cfg, configs);
  }

  private static MeshCluster startNodes(WorkloadSpec spec, EngineConfig cfg, List<Config> configs) {
    if (cfg.host32() && spec.mmu() == MmuKind.BOOK3S_64) {
      throw new IllegalArgumentException(
          "host: a 64-bit guest cannot run on a 32-bit host (spec section 10); allowed: a 64-bit"
              + " host, or a 32-bit guest (mmu=32)");
    }
    Vcpu.SetupOf setupOf =
        (vm, v) ->
            new VcpuSetup(
                vm,
                v,
                cfg.options(),
                cfg.tlbEntries(),
                cfg.maxFaultsPerAccess(),
                Duration.ofSeconds(10),
                3,
                MeshEngine.MAX_OUTSTANDING,
                1024);
    Config first = configs.get(0);
    Duration startup = first.getDuration("mmumesh.mesh.startup-timeout");
    Duration shutdown = first.getDuration("mmumesh.mesh.shutdown-timeout");
    List<ActorSystem<Guardian.Command>> nodes = new ArrayList<>();
    MeshCluster cluster = new MeshCluster(spec, nodes, shutdown);
    try {
      List<CompletableFuture<Void>> up = new ArrayList<>();
      for (Config c : configs) {
        ActorSystem<Guardian.Command> node =
            ActorSystem.create(Guardian.create(spec, cfg, setupOf), MeshEngine.SYSTEM_NAME, c);
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

  /**
   * Runs the workload once, driven from node 0: creates each VM on the page frames as {@code
   * SequentialEngine.createVm} does (the notifier subscription of node 0's adapter, {@code
   * CreateVm}, memslot 0 over {@code [0, layout.memoryPages)} at host page 0, the boot image's
   * pages populated), feeds every vCPU its access source, waits for every batch, and collects the
   * counters, the frames of every gfn and the guest HTAB words.
   *
   * @throws IllegalStateException when called twice, or when the mesh does not answer (a setup step
   *     was refused, or a step timed out)
   */
  public MeshResult run() {
    if (ran) {
      throw new IllegalStateException("run: already ran on this cluster; allowed once");
    }
    ran = true;
    ActorSystem<Guardian.Command> system = nodes.get(0);
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    Guardian.Wiring w =
        ask(system, system, (ActorRef<Guardian.Wiring> r) -> new Guardian.GetWiring(r));
    ActorRef<PageFrame.Command> pf = w.frames();
    long id = 1;
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      pf.tell(new PageFrame.SubscribeNotifier(vm, w.notifiers().get(vm)));
      long rid = id++;
      expect(
          ask(system, pf, (ActorRef<PageFrame.VmReply> r) -> new PageFrame.CreateVm(rid, v, r)),
          PageFrame.VmCreated.class);
      long sid = id++;
      expect(
          ask(
              system,
              pf,
              (ActorRef<PageFrame.SlotReply> r) ->
                  new PageFrame.AddSlot(sid, v, 0, 0, layout.memoryPages(), 0, false, r)),
          PageFrame.SlotAdded.class);
      if (spec.image().isPresent()) {
        GuestImage image = spec.image().get();
        for (int p = 0; p < image.pages(); p++) {
          long pid = id++;
          long gfn = p;
          long fp = image.fingerprint(p);
          expect(
              ask(
                  system,
                  pf,
                  (ActorRef<PageFrame.PopulateReply> r) ->
                      new PageFrame.Populate(pid, v, gfn, fp, r)),
              PageFrame.Populated.class);
        }
      }
    }
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
            MeshEngine.BATCH,
            MeshEngine.MAX_OUTSTANDING,
            MeshEngine.RESEND_AFTER,
            List.copyOf(done)));
    Map<String, Long> counters = new TreeMap<>();
    long completed = 0;
    long failed = 0;
    List<String> failures = new ArrayList<>();
    for (CompletableFuture<Driver.Outcome> f : all) {
      Driver.Outcome o = await(f, RUN, "the drivers");
      completed += o.completed();
      failed += o.failed();
      failures.addAll(o.failures());
      if (o.counters() != null) {
        o.counters().toMap().forEach((k, n) -> counters.merge(k, n, Long::sum));
      }
    }
    List<long[]> frames = new ArrayList<>();
    List<long[]> addrs = new ArrayList<>();
    List<long[]> words = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      long rid = id++;
      PageFrame.FramesRead fr =
          expect(
              ask(
                  system,
                  pf,
                  (ActorRef<PageFrame.FramesReply> r) ->
                      new PageFrame.ReadFrames(rid, v, 0, (int) layout.memoryPages(), r)),
              PageFrame.FramesRead.class);
      frames.add(fr.fingerprints());
      long hid = id++;
      GuestMmu.HtabDumped h =
          expect(
              ask(
                  system,
                  w.guests().get(vm),
                  (ActorRef<GuestMmu.HtabReply> r) -> new GuestMmu.DumpHtab(hid, r)),
              GuestMmu.HtabDumped.class);
      addrs.add(h.addrs());
      words.add(h.words());
    }
    return new MeshResult(counters, completed, failed, List.copyOf(failures), frames, addrs, words);
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
