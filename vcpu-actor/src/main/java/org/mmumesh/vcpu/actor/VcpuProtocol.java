package org.mmumesh.vcpu.actor;

import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.Counts;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.vcpu.VcpuCore;

/**
 * The {@link Vcpu} actor's protocol, on one screen: its commands, their replies and limits. {@link
 * Vcpu} implements this interface only to name them, so call sites read {@code Vcpu.RunBatch},
 * {@code Vcpu.BatchDone}. Every message crosses nodes as CBOR ({@link CborSerializable}); the
 * lifecycle each command is legal in is {@link Vcpu}'s class comment; what it does, docs/design.md
 * section 6.
 */
public interface VcpuProtocol {

  /** The most accesses one {@link RunBatch} may carry. */
  int MAX_BATCH_ACCESSES = 1 << 20;

  /** Failure descriptions kept per batch (the count in {@link BatchDone#failed()} is exact). */
  int MAX_FAILURES_KEPT = VcpuCore.MAX_FAILURES_KEPT;

  /** The most changes one {@link SetState} may carry. */
  int MAX_STATE_CHANGES = 4096;

  /** Everything the actor accepts. */
  sealed interface Command extends CborSerializable
      permits RunBatch,
          Halt,
          GetCounters,
          SetState,
          StoresApplied,
          TraceAccess,
          VcpuCheckpointProtocol.CheckpointState,
          VcpuCheckpointProtocol.RestoreState,
          Internal {}

  /**
   * The actor's own messages (its timer ticks, adapted replies, sharding's stop message): private
   * to {@link Vcpu}, never sent by a client.
   */
  non-sealed interface Internal extends Command {}

  /** The lifecycle states, as reported in {@link Rejected}, {@link Acknowledged} and status. */
  public enum VcpuState {
    STARTING,
    IDLE,
    RUNNING,
    AWAITING_FAULT,
    HALTED
  }

  /**
   * Execute {@code accesses} in order ({@link AccessOp}, the port's own type: {@code value} is the
   * stored word, ignored for loads and fetches). Answered {@link BatchDone} once every access
   * completed or failed, or {@link Rejected} (bad input, too many outstanding batches, halted).
   */
  public record RunBatch(long batchId, List<AccessOp> accesses, ActorRef<BatchReply> replyTo)
      implements Command {}

  /**
   * Stop for good at the next access boundary; every access not yet executed is reported failed.
   * Answered {@link Acknowledged} when halted.
   */
  public record Halt(ActorRef<ControlReply> replyTo) implements Command {}

  /** The state and the counters. */
  public record GetCounters(ActorRef<StatusReport> replyTo) implements Command {}

  /**
   * Set this vCPU's MSR bits, segment state and SDR1 (issue 5): legal in Idle; answered {@link
   * StateSet} once the GuestMmu applied every change and the HostMmu flushed this vCPU's shadow
   * entries, or {@link Rejected} (the state, a bad list, or the GuestMmu's rejection). See
   * docs/design.md section 6.
   *
   * @param changes 1 to {@link #MAX_STATE_CHANGES} changes, applied all or nothing, in order
   */
  public record SetState(
      long requestId, List<VcpuStateChange> changes, ActorRef<StateReply> replyTo)
      implements Command {}

  /**
   * The page frames' answer to this vCPU's {@link PageFrame.ApplyStores}, as the vCPU's store
   * adapter passes it on ({@code refused = -1}: the whole batch was rejected).
   *
   * @param applied stores mixed into their frames
   * @param refused stores not applied (for example a frame no longer mapped writable); counted in
   *     {@code storesLost}
   */
  public record StoresApplied(long requestId, int applied, int refused) implements Command {}

  /**
   * Run one access with the full trace of what happened: legal in Idle; answered {@link
   * AccessTraced} (also when the access failed: the trace says why) or {@link Rejected} (the state
   * or a bad op). See docs/design.md section 6.
   */
  public record TraceAccess(long requestId, AccessOp op, ActorRef<TraceReply> replyTo)
      implements Command {}

  /** What a {@link RunBatch} requester receives. */
  public sealed interface BatchReply extends CborSerializable {}

  /** What a {@link Halt} requester receives. */
  public sealed interface ControlReply extends CborSerializable {}

  /** What a {@link SetState} requester receives. */
  public sealed interface StateReply extends CborSerializable {}

  /** What a {@link TraceAccess} requester receives. */
  public sealed interface TraceReply extends CborSerializable {}

  /** The trace of {@link TraceAccess} {@code requestId}. */
  public record AccessTraced(long requestId, AccessTrace trace) implements TraceReply {}

  /**
   * The changes of {@link SetState} {@code requestId} are applied and this vCPU's TLB and shadow
   * entries flushed; {@code mode} is the new translation mode (PR/IR/DR bits as {@link
   * GuestMmu.ModeOf}).
   */
  public record StateSet(long requestId, int mode) implements StateReply {}

  /**
   * A batch is over: {@code completed + failed} is its number of accesses.
   *
   * @param failures the first {@link #MAX_FAILURES_KEPT} failures, as {@code "vm V vcpu N KIND at
   *     0xEA: cause"}
   * @param counters this vCPU's counters when the batch ended
   */
  public record BatchDone(
      long batchId, int completed, int failed, List<String> failures, Counts counters)
      implements BatchReply {}

  /** {@code command} took effect; the vCPU is now in {@code state}. */
  public record Acknowledged(String command, VcpuState state) implements ControlReply {}

  /**
   * Not accepted, nothing changed: {@code reason} names the field and the allowed range, or the
   * state and the states that allow the command. {@code id} is the batch id, or -1.
   */
  public record Rejected(long id, VcpuState state, String reason)
      implements BatchReply,
          ControlReply,
          StateReply,
          TraceReply,
          VcpuCheckpointProtocol.CheckpointReply {}

  /** The answer to {@link GetCounters}. */
  public record StatusReport(
      VcpuState state, int outstandingBatches, long knownEpoch, int bufferedStores, Counts counters)
      implements CborSerializable {}
}
