package org.mmumesh.mesh;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;

/**
 * A plain {@link ActorRef} standing for one sharded entity on this node: every message it receives
 * goes to the entity type's shard region (or region proxy) of this node wrapped in a {@link
 * ShardingEnvelope} for {@code entityId}, and sharding delivers it to wherever the entity lives.
 *
 * <p>Why: the entity actors take their peers as {@code ActorRef}s (a vCPU its {@code GuestMmu},
 * {@code HostMmu} and {@code PageFrame}; a {@code GuestMmu} its tlbie adapter), and a sharding
 * {@code EntityRef} is only a {@code RecipientRef}, not an {@code ActorRef}. A forwarder is one
 * extra local hop per message and holds no state, so losing or restarting it loses nothing; its ref
 * is local to its node and is never put into a message (replies go to the sender's own ref). Order
 * is kept: one forwarder, one region, one shard, one entity, each FIFO per sender.
 */
final class EntityForwarder {
  private EntityForwarder() {}

  /** Forwards every {@code M} to entity {@code entityId} through {@code region}. */
  static <M> Behavior<M> create(ActorRef<ShardingEnvelope<M>> region, String entityId) {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(entityId, "entityId");
    return Behaviors.receive(
        (ctx, m) -> {
          region.tell(new ShardingEnvelope<>(entityId, m));
          return Behaviors.same();
        });
  }
}
