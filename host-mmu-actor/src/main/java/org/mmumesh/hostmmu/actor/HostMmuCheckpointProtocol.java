package org.mmumesh.hostmmu.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;
import org.mmumesh.shell.EntityState;

/**
 * Checkpoint and restore of one {@link HostMmu} entity at a lockstep barrier (issue 13): the
 * entity's state as the bytes of a {@code mmumesh.checkpoint.v1.HostMmuEntityState} ({@link
 * HostMmuEntityCheckpoint}). Both are answered at once, also during a TLB shootdown, and are then
 * {@link HostMmuProtocol.Rejected} ("not at a barrier"); a restore whose bytes do not parse or do
 * not fit the VM's configuration is rejected naming the field and both values, and nothing changes.
 */
public interface HostMmuCheckpointProtocol {

  /** The answers to {@link CheckpointState} and {@link RestoreState}. */
  sealed interface CheckpointReply extends CborSerializable
      permits StateCheckpoint, StateRestored, HostMmuProtocol.Rejected {}

  /** Asks for the entity's state; answered with {@link StateCheckpoint}. Changes nothing. */
  record CheckpointState(long requestId, ActorRef<CheckpointReply> replyTo) implements Command {}

  /** The entity's state: a serialized {@code HostMmuEntityState}. */
  record StateCheckpoint(long requestId, EntityState state) implements CheckpointReply {
    /** The state as the entity wrote it. */
    public StateCheckpoint(long requestId, byte[] state) {
      this(requestId, new EntityState(state));
    }
  }

  /**
   * Replaces the entity's state with {@code state} (a serialized {@code HostMmuEntityState}), all
   * or nothing; answered with {@link StateRestored}. The TLB subscribers stay as they are.
   */
  record RestoreState(long requestId, EntityState state, ActorRef<CheckpointReply> replyTo)
      implements Command {
    /** A restore of {@code state}, the bytes a {@link StateCheckpoint} carried. */
    public RestoreState(long requestId, byte[] state, ActorRef<CheckpointReply> replyTo) {
      this(requestId, new EntityState(state), replyTo);
    }
  }

  /** The state is restored. */
  record StateRestored(long requestId) implements CheckpointReply {}
}
