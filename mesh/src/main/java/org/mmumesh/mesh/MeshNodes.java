package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * {@link MeshCluster}'s node bootstrap: the Pekko cluster nodes in this JVM, each an actor system
 * named {@value MeshEngine#SYSTEM_NAME} whose root is a {@link Guardian} with the node's own {@link
 * MeshDirectory}, joined into one cluster (node 0 joins itself, the others join node 0; {@code
 * pekko.cluster.min-nr-of-members} is the node count, so {@link #start} returns only when every
 * node is Up); what each node is (address, roles, entities, glue); and their shutdown.
 */
final class MeshNodes implements AutoCloseable {
  private final List<ActorSystem<Guardian.Command>> nodes;
  private final Duration shutdownTimeout;
  private volatile int managementPort = -1;

  private MeshNodes(List<ActorSystem<Guardian.Command>> nodes, Duration shutdownTimeout) {
    this.nodes = nodes;
    this.shutdownTimeout = shutdownTimeout;
  }

  static Config embeddedConfig(Config overrides) {
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

  static List<Config> nodeConfigs(List<? extends Set<String>> nodeRoles) {
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

  /**
   * Starts a node per configuration (node 0 first) and waits until all are Up.
   *
   * @throws IllegalStateException when the nodes are not all Up within {@code
   *     mmumesh.mesh.startup-timeout} (the started ones are shut down)
   */
  static MeshNodes start(List<Config> configs) {
    Config first = configs.get(0);
    Duration startup = first.getDuration("mmumesh.mesh.startup-timeout");
    Duration shutdown = first.getDuration("mmumesh.mesh.shutdown-timeout");
    List<ActorSystem<Guardian.Command>> nodes = new ArrayList<>();
    MeshNodes cluster = new MeshNodes(nodes, shutdown);
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
        MeshAsks.await(up.get(i), startup, "node " + i + " Up in the cluster");
      }
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /**
   * How long a joining node waits for its seed nodes to say which cluster and version they are
   * ({@link ClusterIdentity}); a seed that has not answered by then gives no verdict.
   */
  static final Duration IDENTITY_WAIT = Duration.ofSeconds(3);

  /**
   * Starts the one node of a node process ({@link NodeSettings}): the embedded single-node cluster
   * that joins itself when there are no seed nodes, otherwise a node that joins the cluster through
   * {@code pekko.cluster.seed-nodes} (the first seed forms it if it finds none) once the seed nodes
   * that answer have said they are of this node's cluster name and mmumesh version ({@link
   * ClusterIdentity}); waits until it is Up, then starts Pekko Management when {@code management}.
   *
   * @throws IllegalArgumentException when a seed node is of another cluster or version (naming
   *     both), no seed node answered within {@code mmumesh.mesh.startup-timeout} (naming them), or
   *     management cannot bind; the node is shut down first, so nothing stays half-started
   */
  static MeshNodes join(NodeSettings settings, boolean management) {
    Config c = settings.config();
    Duration startup = c.getDuration("mmumesh.mesh.startup-timeout");
    List<ActorSystem<Guardian.Command>> nodes = new ArrayList<>();
    MeshNodes cluster = new MeshNodes(nodes, c.getDuration("mmumesh.mesh.shutdown-timeout"));
    ClusterIdentity.Identity own = ClusterIdentity.of(c);
    List<Address> seeds = new ArrayList<>();
    for (String s : c.getStringList("pekko.cluster.seed-nodes")) {
      seeds.add(org.apache.pekko.actor.AddressFromURIString.parse(s));
    }
    try {
      // the seed nodes are joined below, once they have said they are this node's cluster
      ActorSystem<Guardian.Command> node =
          ActorSystem.create(
              Guardian.create(new MeshDirectory()),
              MeshEngine.SYSTEM_NAME,
              ConfigFactory.parseMap(
                      java.util.Map.of(
                          "pekko.cluster.seed-nodes", List.of(),
                          "pekko.cluster.app-version", own.version()))
                  .withFallback(c));
      nodes.add(node);
      org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(node);
      ClusterIdentity.start(classic, own);
      CompletableFuture<Void> up = new CompletableFuture<>();
      org.apache.pekko.cluster.Cluster.get(classic).registerOnMemberUp(() -> up.complete(null));
      if (settings.embedded()) {
        Cluster.get(node).manager().tell(Join.create(cluster.address(0)));
      } else {
        Duration ask = startup.compareTo(IDENTITY_WAIT) < 0 ? startup : IDENTITY_WAIT;
        java.util.Optional<String> refusal =
            ClusterIdentity.mismatch(classic, cluster.address(0), seeds, own, ask);
        if (refusal.isPresent()) {
          throw new IllegalArgumentException(refusal.get());
        }
        org.apache.pekko.cluster.Cluster.get(classic).joinSeedNodes(seeds);
      }
      try {
        MeshAsks.await(up, startup, "this node Up in the cluster");
      } catch (IllegalStateException e) {
        if (settings.embedded()) {
          throw e;
        }
        throw new IllegalArgumentException(
            NodeSettings.Setting.SEED_NODES.option
                + ": no seed node let this node join within "
                + startup.toSeconds()
                + " s ("
                + String.join(",", settings.seedNodes())
                + "); start the first seed node first and check each host:port and that it runs"
                + " mmumesh");
      }
      if (management) {
        try {
          cluster.managementPort =
              org.apache.pekko.management.javadsl.PekkoManagement.get(Adapter.toClassic(node))
                  .start()
                  .toCompletableFuture()
                  .get(startup.toMillis(), TimeUnit.MILLISECONDS)
                  .port();
        } catch (ExecutionException | TimeoutException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          throw new IllegalArgumentException(
              NodeSettings.Setting.MANAGEMENT_PORT.option
                  + ": management cannot listen on "
                  + settings.hostname()
                  + ":"
                  + settings.managementPort()
                  + " ("
                  + cause.getMessage()
                  + "); choose a free port");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("mesh: interrupted starting management", e);
        }
      }
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** The port Pekko Management listens on (a free one when asked for 0), -1 without it. */
  int managementPort() {
    return managementPort;
  }

  /** Node {@code node}'s actor system. */
  ActorSystem<Guardian.Command> node(int node) {
    return nodes.get(node);
  }

  /** Node {@code node}'s glue (its directory, forwarders and adapters). */
  NodeGlue glue(int node) {
    ActorSystem<Guardian.Command> system = nodes.get(node);
    return MeshAsks.ask(system, system, (ActorRef<NodeGlue> r) -> new Guardian.GetGlue(r));
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
        MeshAsks.ask(
            system,
            ClusterSharding.get(system).shardState(),
            (ActorRef<ShardRegion.CurrentShardRegionState> r) -> new GetShardRegionState(key, r));
    Set<String> ids = new TreeSet<>();
    for (ShardRegion.ShardState s : state.getShards()) {
      ids.addAll(s.getEntityIds());
    }
    return ids;
  }

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
}
