package org.mmumesh.mesh;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
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
 * <p><b>Late joiners.</b> A writer registers on the nodes it finds at that moment; a node that
 * joins the cluster later would never hear of the hosts and VMs created before. So the directory
 * actors also keep each other up to date: each subscribes to the Receptionist's listing of {@link
 * #KEY}, and when a peer appears in it (a node joined, or restarted) sends that peer its whole
 * directory as {@link Sync} messages ({@link MeshDirectory#snapshot}, in chunks of {@link
 * #SYNC_CHUNK} entries); and every change a writer makes here (a put that added or replaced an
 * entry, a removal that left a tombstone) is sent as a one-entry {@link Sync} to every peer known
 * at that moment. Together these cover a write that races with a join: the first node that applied
 * the write either knew the new peer then (and forwarded it) or learns of it later (and sends its
 * snapshot, which includes the write). A {@link Sync} is merged ({@link MeshDirectory#merge}) and
 * never forwarded again. Merging is idempotent and order-independent, and deletions are tombstones,
 * so snapshots, forwarded changes and the writers' own puts converge in any order, and a stale
 * snapshot cannot bring a deleted VM back.
 *
 * <p>State: the directory it writes, and the peers' directory actors it has seen in the listing (to
 * tell a new peer from a known one). Every command is idempotent (a retried registration replaces
 * the same immutable entry; a put of a deleted id is ignored, logged) and answered {@link Done}
 * with its request id, after the change was forwarded to the known peers.
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

  /**
   * Another node's directory, or a part of it, or one change a writer made there: merged into this
   * node's ({@link MeshDirectory#merge}); not answered (merging twice changes nothing).
   */
  public record Sync(MeshDirectory.Snapshot snapshot) implements Command {}

  /**
   * An entity of this node started (the entity factory records it in this node's directory at once,
   * {@link Placements}), or the facade located one: record it and send it to every peer. Local
   * only.
   */
  public record Placed(MeshDirectory.Placement placement)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /** A member left the cluster (downed, or removed): record what was lost with it. */
  private record MemberGone(org.apache.pekko.cluster.Member member, String how)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

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
          "PageFrame",
          org.mmumesh.pageframe.actor.PageFrame.ENTITY_KEY,
          "Ksm", // ksmd lives in its host's PageFrame entity
          org.mmumesh.pageframe.actor.PageFrame.ENTITY_KEY,
          "GuestMmu",
          org.mmumesh.guestmmu.actor.GuestMmu.ENTITY_KEY,
          "HostMmu",
          org.mmumesh.hostmmu.actor.HostMmu.ENTITY_KEY,
          "Vcpu",
          org.mmumesh.vcpu.actor.Vcpu.ENTITY_KEY);

  /** This node's shard region state for a {@link Locate}. */
  private record RegionState(
      Locate query, ShardRegion.CurrentShardRegionState state, Throwable failure)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /** The Receptionist's listing of every node's directory actor changed. */
  private record PeersChanged(Set<ActorRef<Command>> instances)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /**
   * The most entries and tombstones one {@link Sync} carries: a VM entry is about 700 bytes of
   * CBOR, so a full chunk (about 22 KB, measured) stays far inside Artery's 256 KiB frame.
   */
  static final int SYNC_CHUNK = 32;

  private final MeshDirectory directory;

  /** The other nodes' directory actors seen in the latest listing. */
  private final Set<ActorRef<Command>> peers = new HashSet<>();

  /** The directory actor of the node whose entity factories read {@code directory}. */
  public static Behavior<Command> create(MeshDirectory directory) {
    Objects.requireNonNull(directory, "directory");
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
          ActorRef<Receptionist.Listing> listings =
              ctx.messageAdapter(
                  Receptionist.Listing.class, l -> new PeersChanged(l.getServiceInstances(KEY)));
          ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY, listings));
          org.apache.pekko.cluster.typed.Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(
                  org.apache.pekko.cluster.typed.Subscribe.create(
                      ctx.messageAdapter(
                          ClusterEvent.MemberDowned.class,
                          e -> new MemberGone(e.member(), "downed")),
                      ClusterEvent.MemberDowned.class));
          org.apache.pekko.cluster.typed.Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(
                  org.apache.pekko.cluster.typed.Subscribe.create(
                      ctx.messageAdapter(
                          ClusterEvent.MemberRemoved.class,
                          e -> new MemberGone(e.member(), "removed")),
                      ClusterEvent.MemberRemoved.class));
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
        .onMessage(Sync.class, this::onSync)
        .onMessage(Placed.class, this::onPlaced)
        .onMessage(MemberGone.class, this::onMemberGone)
        .onMessage(PeersChanged.class, this::onPeersChanged)
        .onMessage(Locate.class, this::onLocate)
        .onMessage(RegionState.class, this::onRegionState)
        .build();
  }

  private Behavior<Command> onPutHost(PutHost m) {
    MeshDirectory.HostEntry h = m.host();
    if (directory.putHost(h)) {
      forward(MeshDirectory.Snapshot.of(List.of(h), List.of(), List.of(), List.of()));
    } else if (directory.hostDeleted(h.hostId())) {
      getContext().getLog().warn("host {} was deleted; its id is not reused: {}", h.hostId(), m);
    }
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onRemoveHost(RemoveHost m) {
    if (directory.removeHost(m.hostId())) {
      forward(MeshDirectory.Snapshot.of(List.of(), List.of(m.hostId()), List.of(), List.of()));
    }
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onPutVm(PutVm m) {
    MeshDirectory.VmEntry v = m.vm();
    if (directory.putVm(v)) {
      forward(MeshDirectory.Snapshot.of(List.of(), List.of(), List.of(v), List.of()));
    } else if (directory.vmDeleted(v.vmId())) {
      getContext().getLog().warn("vm {} was deleted; its id is not reused: {}", v.vmId(), m);
    }
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onRemoveVm(RemoveVm m) {
    if (directory.removeVm(m.vmId())) {
      forward(MeshDirectory.Snapshot.of(List.of(), List.of(), List.of(), List.of(m.vmId())));
    }
    m.replyTo().tell(new Done(m.requestId()));
    return this;
  }

  private Behavior<Command> onSync(Sync m) {
    if (m.snapshot() != null) {
      directory.merge(m.snapshot());
    }
    return this;
  }

  private Behavior<Command> onPeersChanged(PeersChanged m) {
    Set<ActorRef<Command>> now = new HashSet<>(m.instances());
    now.remove(getContext().getSelf());
    List<MeshDirectory.Snapshot> chunks = null;
    for (ActorRef<Command> p : now) {
      if (!peers.contains(p)) {
        if (chunks == null) {
          chunks = directory.snapshot().chunks(SYNC_CHUNK);
        }
        for (MeshDirectory.Snapshot c : chunks) {
          p.tell(new Sync(c));
        }
      }
    }
    peers.clear();
    peers.addAll(now);
    return this;
  }

  private Behavior<Command> onPlaced(Placed m) {
    directory.lost().place(m.placement());
    forward(MeshDirectory.Snapshot.of(m.placement()));
    return this;
  }

  /**
   * A member was downed or removed: every VM and host with state there is lost (computed here from
   * the placements, and sent to the peers too, for a peer that missed a placement).
   */
  private Behavior<Command> onMemberGone(MemberGone m) {
    String node = m.member().address().toString();
    org.apache.pekko.cluster.MemberStatus self =
        org.apache.pekko.cluster.typed.Cluster.get(getContext().getSystem()).selfMember().status();
    if (node.equals(address())
        || !(self == org.apache.pekko.cluster.MemberStatus.up()
            || self == org.apache.pekko.cluster.MemberStatus.weaklyUp())) {
      return this; // this node is leaving too: whatever it would record goes with it
    }
    List<MeshDirectory.Loss> fresh = new java.util.ArrayList<>();
    for (MeshDirectory.Loss l : directory.lossesOf(node)) {
      if (directory.lost().add(l)) {
        fresh.add(l);
      }
    }
    if (!fresh.isEmpty()) {
      getContext()
          .getLog()
          .warn("node {} {}: state lost with it, refused from now on: {}", node, m.how(), fresh);
      forward(MeshDirectory.Snapshot.ofLosses(fresh));
    }
    return this;
  }

  /** Sends one change made here to every known peer. */
  private void forward(MeshDirectory.Snapshot change) {
    for (ActorRef<Command> p : peers) {
      p.tell(new Sync(change));
    }
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
}
