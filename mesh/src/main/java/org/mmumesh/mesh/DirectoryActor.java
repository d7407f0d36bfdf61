package org.mmumesh.mesh;

import java.time.Duration;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.CborSerializable;

/**
 * The writer of one node's {@link MeshDirectory}: one per node (a child of the node's {@link
 * Guardian}), registered with the Receptionist under {@link #KEY}, so whoever creates a host or a
 * VM finds every node's directory ({@code Receptionist.Find}) and registers it on each, waiting for
 * every {@link Done}, before any entity of it is addressed (see the ordering rule in {@link
 * MeshDirectory}).
 *
 * <p>State: none of its own; the directory it writes. Every command is idempotent (a retried
 * registration replaces the same immutable entry) and answered {@link Done} with its request id.
 */
public final class DirectoryActor extends AbstractBehavior<DirectoryActor.Command> {
  /** The Receptionist key every node's directory actor is registered under. */
  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "mmumesh-directory");

  /** What the actor accepts (from any node). */
  public sealed interface Command extends CborSerializable {}

  /** Registers (or re-registers) a host. */
  public record PutHost(long requestId, MeshDirectory.HostEntry host, ActorRef<Done> replyTo)
      implements Command {}

  /** Drops a host. */
  public record RemoveHost(long requestId, int hostId, ActorRef<Done> replyTo) implements Command {}

  /** Registers (or re-registers) a VM. */
  public record PutVm(long requestId, MeshDirectory.VmEntry vm, ActorRef<Done> replyTo)
      implements Command {}

  /** Drops a VM. */
  public record RemoveVm(long requestId, int vmId, ActorRef<Done> replyTo) implements Command {}

  /** The change of {@code requestId} is in this node's directory. */
  public record Done(long requestId) implements CborSerializable {}

  /**
   * Whether entity {@code entityId} of type {@code entityType} ({@link #ENTITY_TYPES}) runs on this
   * node (its shard region's state); answered {@link Located}.
   */
  public record Locate(
      long requestId, String entityType, String entityId, ActorRef<Located> replyTo)
      implements Command {}

  /** The answer to {@link Locate}: {@code shardId} is empty when the entity is not here. */
  public record Located(long requestId, String nodeAddress, String shardId)
      implements CborSerializable {}

  /** The entity types {@link Locate} knows, by name. */
  public static final java.util.Map<String, EntityTypeKey<?>> ENTITY_TYPES =
      java.util.Map.of(
          "PageFrame", org.mmumesh.pageframe.PageFrame.ENTITY_KEY,
          "Ksm", org.mmumesh.ksm.Ksm.ENTITY_KEY,
          "GuestMmu", org.mmumesh.guestmmu.GuestMmu.ENTITY_KEY,
          "HostMmu", org.mmumesh.hostmmu.HostMmu.ENTITY_KEY,
          "Vcpu", org.mmumesh.vcpu.Vcpu.ENTITY_KEY);

  /** This node's shard region state for a {@link Locate}. */
  private record RegionState(
      Locate query, ShardRegion.CurrentShardRegionState state, Throwable failure)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  private final MeshDirectory directory;

  /** The directory actor of the node whose entity factories read {@code directory}. */
  public static Behavior<Command> create(MeshDirectory directory) {
    Objects.requireNonNull(directory, "directory");
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
          return new DirectoryActor(ctx, directory);
        });
  }

  private DirectoryActor(ActorContext<Command> ctx, MeshDirectory directory) {
    super(ctx);
    this.directory = directory;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(PutHost.class, this::onPutHost)
        .onMessage(RemoveHost.class, this::onRemoveHost)
        .onMessage(PutVm.class, this::onPutVm)
        .onMessage(RemoveVm.class, this::onRemoveVm)
        .onMessage(Locate.class, this::onLocate)
        .onMessage(RegionState.class, this::onRegionState)
        .build();
  }

  private Behavior<Command> onPutHost(PutHost m) {
    directory.putHost(m.host());
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onRemoveHost(RemoveHost m) {
    directory.removeHost(m.hostId());
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onPutVm(PutVm m) {
    directory.putVm(m.vm());
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onLocate(Locate m) {
    EntityTypeKey<?> key = ENTITY_TYPES.get(m.entityType());
    if (key == null) {
      m.replyTo().tell(new Located(m.requestId(), address(), ""));
      return this;
    }
    getContext()
        .ask(
            ShardRegion.CurrentShardRegionState.class,
            ClusterSharding.get(getContext().getSystem()).shardState(),
            Duration.ofSeconds(5),
            r -> new GetShardRegionState(key, r),
            (state, failure) -> new RegionState(m, state, failure));
    return this;
  }

  private Behavior<Command> onRegionState(RegionState m) {
    String shard = "";
    if (m.state() != null) {
      for (ShardRegion.ShardState s : m.state().getShards()) {
        if (s.getEntityIds().contains(m.query().entityId())) {
          shard = s.shardId();
        }
      }
    }
    m.query().replyTo().tell(new Located(m.query().requestId(), address(), shard));
    return this;
  }

  private String address() {
    return org.apache.pekko.cluster.typed.Cluster.get(getContext().getSystem())
        .selfMember()
        .address()
        .toString();
  }

  private Behavior<Command> onRemoveVm(RemoveVm m) {
    directory.removeVm(m.vmId());
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }
}
