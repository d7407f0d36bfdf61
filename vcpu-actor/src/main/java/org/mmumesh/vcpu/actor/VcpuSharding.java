package org.mmumesh.vcpu.actor;

import java.time.Duration;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.mmumesh.common.Counts;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.VcpuProtocol.Command;
import org.mmumesh.vcpu.actor.VcpuProtocol.GetCounters;
import org.mmumesh.vcpu.actor.VcpuProtocol.Halt;
import org.mmumesh.vcpu.actor.VcpuProtocol.Rejected;
import org.mmumesh.vcpu.actor.VcpuProtocol.RunBatch;
import org.mmumesh.vcpu.actor.VcpuProtocol.SetState;
import org.mmumesh.vcpu.actor.VcpuProtocol.StatusReport;
import org.mmumesh.vcpu.actor.VcpuProtocol.TraceAccess;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;

/**
 * The {@link Vcpu} entity type in Cluster Sharding: entity ids {@code vm-<v>/vcpu-<n>}, the shard
 * settings (passivation after {@value VcpuParking#PASSIVATE_AFTER_IDLE_KEY}, stop message {@code
 * Park}), and the vCPU built for an entity id, or one that rejects every command when it cannot be
 * built. The public entry points are {@link Vcpu#initSharding} and {@link Vcpu#vmAndVcpuOf}.
 */
final class VcpuSharding {

  private static final Pattern ENTITY_ID = Pattern.compile("vm-([0-9]{1,10})/vcpu-([0-9]{1,4})");

  private VcpuSharding() {}

  /** See {@link Vcpu#vmAndVcpuOf}. */
  static int[] vmAndVcpuOf(String entityId) {
    Matcher m = entityId == null ? null : ENTITY_ID.matcher(entityId);
    if (m != null && m.matches()) {
      long vm = Long.parseLong(m.group(1));
      int vcpu = Integer.parseInt(m.group(2));
      if (vm <= Integer.MAX_VALUE && vcpu <= VcpuSetup.MAX_VCPU) {
        return new int[] {(int) vm, vcpu};
      }
    }
    throw new IllegalArgumentException(
        "entityId: '"
            + entityId
            + "' is not a vCPU entity id; allowed: vm-<v>/vcpu-<n> with v 0 to 2147483647 and n 0"
            + " to "
            + VcpuSetup.MAX_VCPU);
  }

  /** See {@link Vcpu#initSharding}. */
  static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      Vcpu.SetupOf setupOf,
      IntFunction<ActorRef<GuestMmu.Command>> guestOf,
      IntFunction<ActorRef<HostMmu.Command>> hostOf,
      IntFunction<ActorRef<PageFrame.Command>> framesOf,
      String role,
      org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy allocation) {
    Objects.requireNonNull(setupOf, "setupOf");
    Objects.requireNonNull(guestOf, "guestOf");
    Objects.requireNonNull(hostOf, "hostOf");
    Objects.requireNonNull(framesOf, "framesOf");
    ClusterShardingSettings settings = ClusterShardingSettings.create(system);
    Duration idle = VcpuParking.idleTimeout(system.settings().config());
    settings =
        idle == null
            ? settings.withNoPassivationStrategy()
            : settings.withPassivationStrategy(
                settings.passivationStrategySettings().withIdleEntityPassivation(idle));
    if (role != null) {
      settings = settings.withRole(role);
    }
    Entity<Command, ShardingEnvelope<Command>> entity =
        Entity.of(
                Vcpu.ENTITY_KEY,
                ctx -> forEntity(ctx.getEntityId(), setupOf, guestOf, hostOf, framesOf))
            .withSettings(settings)
            .withStopMessage(Vcpu.PARK);
    if (role != null) {
      entity = entity.withRole(role);
    }
    if (allocation != null) {
      entity = entity.withAllocationStrategy(allocation);
    }
    return ClusterSharding.get(system).init(entity);
  }

  /** The vCPU of entity {@code entityId}, or {@link #rejectingAll} when it cannot be built. */
  static Behavior<Command> forEntity(
      String entityId,
      Vcpu.SetupOf setupOf,
      IntFunction<ActorRef<GuestMmu.Command>> guestOf,
      IntFunction<ActorRef<HostMmu.Command>> hostOf,
      IntFunction<ActorRef<PageFrame.Command>> framesOf) {
    try {
      int[] id = vmAndVcpuOf(entityId);
      ActorRef<PageFrame.Command> frames = framesOf.apply(id[0]);
      return Vcpu.create(
          setupOf.apply(id[0], id[1]),
          guestOf.apply(id[0]),
          hostOf.apply(id[0]),
          frames,
          frames == null ? null : frames.narrow(),
          true);
    } catch (IllegalArgumentException | NullPointerException e) {
      return rejectingAll(entityId + ": " + e.getMessage());
    }
  }

  /** A vCPU that could not be built: every command with a reply channel is rejected. */
  static Behavior<Command> rejectingAll(String reason) {
    return Behaviors.receive(Command.class)
        .onAnyMessage(
            cmd -> {
              if (cmd instanceof Vcpu.Park) {
                return Behaviors.stopped();
              } else if (cmd instanceof RunBatch m) {
                m.replyTo().tell(new Rejected(m.batchId(), VcpuState.HALTED, reason));
              } else if (cmd instanceof Halt m) {
                m.replyTo().tell(new Rejected(-1, VcpuState.HALTED, reason));
              } else if (cmd instanceof TraceAccess m) {
                m.replyTo().tell(new Rejected(m.requestId(), VcpuState.HALTED, reason));
              } else if (cmd instanceof SetState m) {
                m.replyTo().tell(new Rejected(m.requestId(), VcpuState.HALTED, reason));
              } else if (cmd instanceof GetCounters m) {
                m.replyTo().tell(new StatusReport(VcpuState.HALTED, 0, 0, 0, Counts.zero()));
              }
              return Behaviors.same();
            })
        .build();
  }
}
