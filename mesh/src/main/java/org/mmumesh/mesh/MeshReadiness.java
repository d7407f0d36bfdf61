package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ClusterSharding;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.pattern.Patterns;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * The mesh's readiness check for Pekko Management's {@code /ready} (registered in {@value
 * MeshEngine#CONFIG_RESOURCE} as {@code pekko.management.health-checks.readiness-checks
 * .mmumesh-mesh}; the gateway's gRPC health follows the same answer). A node is ready when:
 *
 * <ol>
 *   <li>it is an Up member of the cluster;
 *   <li>every entity role ({@value MeshEngine#ROLE_FRAMES}, {@value MeshEngine#ROLE_MMU}, {@value
 *       MeshEngine#ROLE_VCPU}) is on some Up member: a cluster without one has entities that can
 *       never start (the failure names the missing role and the option that adds it);
 *   <li>every entity type's shard region (or proxy) on this node reaches its coordinator, which
 *       knows at least one region hosting the type ({@code ShardRegion.GetCurrentRegions}).
 * </ol>
 *
 * A failure fails the returned stage with a message saying which condition does not hold: Pekko
 * Management then answers 500 with {@code Health Check Failed: Check [...] failed: <message>}.
 */
public final class MeshReadiness implements Supplier<CompletionStage<Boolean>> {
  /** The entity types by name, each with the role whose nodes host it (see {@link Guardian}). */
  static final Map<String, String> ENTITY_ROLES =
      Map.of(
          PageFrame.ENTITY_KEY.name(), MeshEngine.ROLE_FRAMES,
          GuestMmu.ENTITY_KEY.name(), MeshEngine.ROLE_MMU,
          HostMmu.ENTITY_KEY.name(), MeshEngine.ROLE_MMU,
          Vcpu.ENTITY_KEY.name(), MeshEngine.ROLE_VCPU);

  private static final Duration ASK = Duration.ofSeconds(3);

  private final ActorSystem system;

  /** Made by Pekko Management, once per node. */
  public MeshReadiness(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    Cluster cluster = Cluster.get(system);
    Member self = cluster.selfMember();
    if (self.status() != MemberStatus.up()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("this node is " + self.status() + " in the cluster, not Up"));
    }
    Set<String> missing = missingRoles(cluster.state().getMembers());
    if (!missing.isEmpty()) {
      return CompletableFuture.failedFuture(new IllegalStateException(missingMessage(missing)));
    }
    List<CompletableFuture<Void>> regions = new ArrayList<>();
    for (String type : new TreeSet<>(ENTITY_ROLES.keySet())) {
      regions.add(
          Patterns.ask(
                  ClusterSharding.get(system).shardRegion(type),
                  ShardRegion.getCurrentRegionsInstance(),
                  ASK)
              .toCompletableFuture()
              .thenAccept(
                  r -> {
                    if (((ShardRegion.CurrentRegions) r).getRegions().isEmpty()) {
                      throw new IllegalStateException(
                          "the shard region of "
                              + type
                              + " has no coordinator yet, or the coordinator knows no node with"
                              + " role "
                              + ENTITY_ROLES.get(type));
                    }
                  }));
    }
    return CompletableFuture.allOf(regions.toArray(CompletableFuture[]::new))
        .thenApply(v -> Boolean.TRUE);
  }

  /** The entity roles no Up member of {@code members} has. */
  static Set<String> missingRoles(Iterable<Member> members) {
    Set<String> missing = new TreeSet<>(MeshEngine.ALL_ROLES);
    for (Member m : members) {
      if (m.status() == MemberStatus.up()) {
        missing.removeAll(m.getRoles());
      }
    }
    return missing;
  }

  /** The readiness failure for the entity roles {@code missing}. */
  static String missingMessage(Set<String> missing) {
    return "no Up member has the role "
        + String.join(",", missing)
        + ": those entities have no node to run on; start a node with --roles "
        + String.join(",", missing);
  }
}
