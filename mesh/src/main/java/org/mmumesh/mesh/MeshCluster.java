package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
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
 *
 * <p>This class is the public face; the work is in three parts: {@link MeshNodes} (node bootstrap:
 * the actor systems, their joining, what each node is, shutdown), {@link MeshRunDriver} (a static
 * run's set-up and its lockstep or free driving) and {@link MeshRunResults} (the counters as the
 * batches answer, KSM samples, the end state read back), all asking through {@link MeshAsks}.
 */
public final class MeshCluster implements AutoCloseable {
  private final WorkloadSpec spec;
  private final EngineConfig cfg;
  private final MeshNodes nodes;
  private boolean ran;
  private Guardian.Wiring wiring;
  private final AtomicLong nextId = new AtomicLong();
  private long invariantChecks;

  private MeshCluster(WorkloadSpec spec, EngineConfig cfg, MeshNodes nodes) {
    this.spec = spec;
    this.cfg = cfg;
    this.nodes = nodes;
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
    return startNodes(spec, cfg, List.of(MeshNodes.embeddedConfig(ConfigFactory.empty())));
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
    return startNodes(null, null, List.of(MeshNodes.embeddedConfig(overrides)));
  }

  /**
   * The one node of a node process ({@code mmumesh node}, {@link NodeSettings}), without a
   * workload: the embedded single-node cluster when there are no seed nodes, else a node joining
   * the cluster of its seed nodes; with Pekko Management ({@code /alive}, {@code /ready}, {@code
   * /cluster/members}) when {@code management}. Hosts and VMs are created at run time through
   * {@link #simulation}.
   *
   * @throws IllegalArgumentException when no seed node answers in time (naming them) or management
   *     cannot listen (nothing is left running)
   */
  public static MeshCluster node(NodeSettings settings, boolean management) {
    Objects.requireNonNull(settings, "settings");
    return new MeshCluster(null, null, MeshNodes.join(settings, management));
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
    return startNodes(spec, cfg, MeshNodes.nodeConfigs(nodeRoles));
  }

  /**
   * {@code nodeRoles.size()} nodes as {@link #start}, without a workload: hosts and VMs are created
   * at run time through {@link #simulation}, registered on every node.
   */
  public static MeshCluster startSimulation(List<? extends Set<String>> nodeRoles) {
    return startNodes(null, null, MeshNodes.nodeConfigs(nodeRoles));
  }

  private static MeshCluster startNodes(WorkloadSpec spec, EngineConfig cfg, List<Config> configs) {
    if (spec != null && cfg.host32() && spec.mmu() == MmuKind.BOOK3S_64) {
      throw new IllegalArgumentException(
          "host: a 64-bit guest cannot run on a 32-bit host (spec section 10); allowed: a 64-bit"
              + " host, or a 32-bit guest (mmu=32)");
    }
    return new MeshCluster(spec, cfg, MeshNodes.start(configs));
  }

  /** Node {@code node}'s actor system (tests: downing a member from it). */
  ActorSystem<Guardian.Command> system(int node) {
    return nodes.node(node);
  }

  /** Node {@code node}'s glue (its directory, forwarders and adapters). */
  NodeGlue glue(int node) {
    return nodes.glue(node);
  }

  /**
   * The simulation driven from node {@code node}: hosts and VMs created at run time, registered on
   * every node (see {@link MeshSimulation}). Each call gives a new facade; use one per cluster.
   */
  public MeshSimulation simulation(int node) {
    return new MeshSimulation(
        nodes.node(node),
        glue(node),
        MeshAsks.ASK,
        MemoryBudget.fromConfig(nodes.node(node).settings().config()));
  }

  /**
   * Runs {@code task} in node {@code node}'s CoordinatedShutdown phase {@code service-unbind}: the
   * first phase, before the node leaves the cluster, shards hand off and the actors stop; where an
   * external API (the gRPC gateway) stops taking calls and drains them.
   */
  public void onServiceUnbind(int node, String name, Runnable task) {
    nodes.onServiceUnbind(node, name, task);
  }

  /**
   * Every {@code every}, tells {@code listener} whether node 0 is ready by its readiness checks
   * (Pekko Management's {@code /ready}: empty when ready, else why not), until it terminates.
   */
  public void watchReadiness(Duration every, Consumer<Optional<String>> listener) {
    NodeReadiness.watch(nodes.node(0), every, listener);
  }

  /**
   * The gateway that drives workloads, if it is not node {@code node}: the oldest Up member with
   * the {@value NodeSettings#ROLE_GATEWAY} role. Only one gateway per cluster drives (each facade
   * numbers the batches it sends to a vCPU and keeps the memslot tables it changed), so the others
   * refuse driving calls and name it. Empty when node {@code node} is that gateway, or when no
   * member has the role (the embedded node and in-JVM clusters: node 0's facade drives).
   */
  public Optional<Address> otherDrivingGateway(int node) {
    org.apache.pekko.cluster.Cluster c = org.apache.pekko.cluster.Cluster.get(classicSystem(node));
    org.apache.pekko.cluster.Member oldest = null;
    for (org.apache.pekko.cluster.Member m : c.state().getMembers()) {
      if (m.status() == org.apache.pekko.cluster.MemberStatus.up()
          && m.hasRole(NodeSettings.ROLE_GATEWAY)
          && (oldest == null || m.isOlderThan(oldest))) {
        oldest = m;
      }
    }
    if (oldest == null || oldest.address().equals(c.selfAddress())) {
      return Optional.empty();
    }
    return Optional.of(oldest.address());
  }

  /** The port Pekko Management listens on ({@link #node} with management), else -1. */
  public int managementPort() {
    return nodes.managementPort();
  }

  /** Node {@code node}'s actor system, classic view (for Pekko extensions). */
  public org.apache.pekko.actor.ActorSystem classicSystem(int node) {
    return org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(nodes.node(node));
  }

  /** Blocks until node 0's actor system terminated (after CoordinatedShutdown). */
  public void awaitTermination() throws InterruptedException {
    nodes.awaitTermination();
  }

  /** The number of nodes. */
  public int size() {
    return nodes.size();
  }

  /** Node {@code node}'s cluster address (its free port included). */
  public Address address(int node) {
    return nodes.address(node);
  }

  /** Node {@code node}'s cluster roles (without Pekko's own {@code dc-<data center>} role). */
  public Set<String> roles(int node) {
    return nodes.roles(node);
  }

  /**
   * The ids of the entities of type {@code key} running on node {@code node} (its shard region's
   * state; empty on a node without the type's role, whose region is a proxy).
   */
  public Set<String> entityIds(int node, EntityTypeKey<?> key) {
    return nodes.entityIds(node, key);
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
    MeshRunDriver driver = new MeshRunDriver(nodes.node(0), glue(0), nextId, spec, cfg);
    Guardian.Wiring w = driver.setUp();
    wiring = w;
    MeshRunResults results = new MeshRunResults(asks(), w, spec, cfg);
    MeshRunResults.Tally t = driver.run(w, results, pacing, afterRound);
    return results.collect(GuestLayout.of(spec.mmu(), spec.pagesPerVm()), t, invariantChecks);
  }

  /**
   * The architecture's invariants (section 5) as the mesh can check them, each violation named
   * ({@link MeshInvariants}, the one check the API's {@code CheckInvariants} runs too): the page
   * frames, the KSM counters, every VM's host MMU, and across the shadow caches. Call it while the
   * vCPUs are idle (after a lockstep round, or after the run).
   */
  List<String> invariantViolations() {
    return invariantViolations(false, 0);
  }

  /**
   * {@link #invariantViolations()}, incrementally if {@code incremental} (what changed since the
   * previous incremental check, see {@link MeshInvariants}); {@code round} (1 or more) picks the
   * incremental checks that include the shadow-cache check.
   */
  List<String> invariantViolations(boolean incremental, int round) {
    if (wiring == null) {
      throw new IllegalStateException("invariantViolations: the run has not started");
    }
    invariantChecks++;
    MeshInvariants check =
        new MeshInvariants(glue(0), new MeshVms(nodes.node(0), glue(0), MeshAsks.ASK, nextId));
    return MeshAsks.await(
            check.check(incremental, round).toCompletableFuture(),
            MeshAsks.ASK.plusSeconds(5),
            "the invariant check")
        .violations();
  }

  private MeshAsks asks() {
    return new MeshAsks(nodes.node(0), nextId);
  }

  private static <Q, R> R ask(
      ActorSystem<?> system, RecipientRef<Q> to, Function<ActorRef<R>, Q> message) {
    return MeshAsks.ask(system, to, message);
  }

  /**
   * Shuts every node down, the last started first (CoordinatedShutdown runs on each: shard
   * hand-off, leaving the cluster), waiting up to {@code mmumesh.mesh.shutdown-timeout} for each.
   */
  @Override
  public void close() {
    nodes.close();
  }
}
