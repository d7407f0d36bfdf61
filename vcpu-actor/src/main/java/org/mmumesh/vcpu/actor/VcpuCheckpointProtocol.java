package org.mmumesh.vcpu.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.shell.EntityState;
import org.mmumesh.vcpu.actor.VcpuProtocol.Command;

/**
 * Checkpoint and restore of one {@link Vcpu} entity at a lockstep barrier (issue 13): the entity's
 * state as the bytes of a {@code mmumesh.checkpoint.v1.VcpuEntityState} ({@link
 * VcpuEntityCheckpoint}). Both are {@link VcpuProtocol.Rejected} unless the vCPU is IDLE or HALTED
 * with nothing in flight (no batch, access, store flush, state change or trace); a restore whose
 * bytes do not parse or do not fit the entity (another VM or vCPU index, TLB size, livelock bound)
 * is rejected naming the field and both values, and nothing changes.
 */
public interface VcpuCheckpointProtocol {

  /** The answers to {@link CheckpointState} and {@link RestoreState}. */
  sealed interface CheckpointReply extends CborSerializable
      permits StateCheckpoint, StateRestored, VcpuProtocol.Rejected {}

  /** Asks for the entity's state; answered with {@link StateCheckpoint}. Changes nothing. */
  record CheckpointState(long requestId, ActorRef<CheckpointReply> replyTo) implements Command {}

  /** The entity's state: a serialized {@code VcpuEntityState}. */
  record StateCheckpoint(long requestId, EntityState state) implements CheckpointReply {
    /** The state as the entity wrote it. */
    public StateCheckpoint(long requestId, byte[] state) {
      this(requestId, new EntityState(state));
    }
  }

  /**
   * Replaces the entity's state with {@code state} (a serialized {@code VcpuEntityState}), all or
   * nothing; answered with {@link StateRestored}.
   */
  record RestoreState(long requestId, EntityState state, ActorRef<CheckpointReply> replyTo)
      implements Command {
    /** A restore of {@code state}, the bytes a {@link StateCheckpoint} carried. */
    public RestoreState(long requestId, byte[] state, ActorRef<CheckpointReply> replyTo) {
      this(requestId, new EntityState(state), replyTo);
    }
  }

  /** The state is restored; the vCPU is now in {@code state}. */
  record StateRestored(long requestId, VcpuProtocol.VcpuState state) implements CheckpointReply {}
}
