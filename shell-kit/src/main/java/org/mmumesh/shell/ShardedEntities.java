package org.mmumesh.shell;

import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Cluster Sharding registration as the shells whose state must not be dropped do it (style item 9:
 * each entity class keeps its {@code ENTITY_KEY} and {@code initSharding}, which call this):
 * passivation off (a guest HTAB is guest memory; a host MMU's loss makes every vCPU re-fault), on
 * the nodes of one cluster role or on every node.
 */
public final class ShardedEntities {
  private ShardedEntities() {}

  /**
   * Registers entity type {@code key}, each entity built by {@code byEntityId} from its id, with no
   * passivation.
   *
   * @param role the cluster role whose nodes host the entities, or null for every node
   * @return the shard region, addressed with {@code ShardingEnvelope(entityId, command)}
   */
  public static <M> ActorRef<ShardingEnvelope<M>> initWithoutPassivation(
      ActorSystem<?> system,
      EntityTypeKey<M> key,
      Function<String, Behavior<M>> byEntityId,
      String role) {
    return initWithoutPassivation(system, key, byEntityId, role, null);
  }

  /**
   * As {@link #initWithoutPassivation(ActorSystem, EntityTypeKey, Function, String)}, shards placed
   * by {@code allocation} (null: Pekko's default strategy, which rebalances live shards and so
   * restarts their entities empty: see docs/design.md section 7).
   */
  public static <M> ActorRef<ShardingEnvelope<M>> initWithoutPassivation(
      ActorSystem<?> system,
      EntityTypeKey<M> key,
      Function<String, Behavior<M>> byEntityId,
      String role,
      ShardAllocationStrategy allocation) {
    Entity<M, ShardingEnvelope<M>> entity =
        Entity.of(key, ctx -> byEntityId.apply(ctx.getEntityId()))
            .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy());
    if (role != null) {
      entity = entity.withRole(role);
    }
    if (allocation != null) {
      entity = entity.withAllocationStrategy(allocation);
    }
    return ClusterSharding.get(system).init(entity);
  }
}
