package org.mmumesh.guestmmu.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Command;
import org.mmumesh.shell.EntityState;

/**
 * Checkpoint and restore of one {@link GuestMmu} entity at a lockstep barrier (issue 13): the
 * entity's state as the bytes of a {@code mmumesh.checkpoint.v1.GuestMmuEntityState} ({@link
 * GuestMmuEntityCheckpoint}). Both are {@link GuestMmuProtocol.Rejected} when the actor is not at a
 * barrier (a guest tlbie awaits the host's {@code TlbieDone}, or flushes are owed after a timeout);
 * a restore whose bytes do not parse or do not fit the VM (another MMU kind, memory size, vCPU
 * count, kernel window...) is rejected naming the field and both values, and nothing changes.
 */
public interface GuestMmuCheckpointProtocol {

  /** The answers to {@link CheckpointState} and {@link RestoreState}. */
  sealed interface CheckpointReply extends CborSerializable
      permits StateCheckpoint, StateRestored, GuestMmuProtocol.Rejected {}

  /** Asks for the entity's state; answered with {@link StateCheckpoint}. Changes nothing. */
  record CheckpointState(long requestId, ActorRef<CheckpointReply> replyTo) implements Command {}

  /** The entity's state: a serialized {@code GuestMmuEntityState}. */
  record StateCheckpoint(long requestId, EntityState state) implements CheckpointReply {
    /** The state as the entity wrote it. */
    public StateCheckpoint(long requestId, byte[] state) {
      this(requestId, new EntityState(state));
    }
  }

  /**
   * Replaces the entity's whole state with {@code state} (a serialized {@code
   * GuestMmuEntityState}), all or nothing; answered with {@link StateRestored}.
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
