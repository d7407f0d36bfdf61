package org.mmumesh.pageframe.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.pageframe.PfnResult;

/**
 * The {@link PageFrame}'s fault sub-protocol: {@code gfn_to_pfn_prot} under a memslot read lease
 * (spec 5.1, 8.8 TV61; the leases: {@link Leases}) and the MMU notifier (spec 5.7).
 *
 * <p><b>MMU notifiers.</b> Every invalidation the core emits while serving a request (a COW break
 * in {@link GfnToPfnProt} or {@link MemslotProtocol.Populate}, a memslot removal, a KSM batch's
 * write-protect, replace or break) is sent as a {@link NotifierEvent} to every subscriber of the
 * VM, and the request's reply is sent only when every event was acknowledged with a {@link
 * NotifierAck} of its (vm, sequence): in the kernel the notifier callbacks complete before {@code
 * gfn_to_pfn} returns (the round: {@link NotifierRound}, held by {@link
 * org.mmumesh.shell.HeldReplies}). With no subscriber the reply goes out at once. If
 * acknowledgements are missing after {@link PageFrame.Settings#notifierAckTimeout()}, the reply is
 * sent anyway, with a warning and the counters {@code NOTIFIER_ACK_TIMEOUTS} and {@code
 * NOTIFIER_ACKS_MISSING}. One round is in flight at a time: commands that may change state or take
 * leases arriving meanwhile are stashed (bounded by {@link PageFrame.Settings#stashCapacity()};
 * when full, they are answered {@link PageFrame.Rejected} with a reason starting {@code "stash:
 * full"}) and processed in arrival order afterwards; {@link ReleaseLease}, {@link NotifierAck} and
 * the read-only commands are handled at once. Acknowledgements are counted, not attributed to a
 * subscriber: a subscriber must acknowledge each event exactly once; one that stops is dropped from
 * the subscribers, and a round still waiting for it ends at the timeout.
 */
public interface FaultProtocol {
  /**
   * {@code gfn_to_pfn_prot} (spec 5.1) under a memslot read lease; see the class comment.
   *
   * @param vcpu the asking vCPU, 0 to {@link PageFrame#MAX_VCPU} (the retry memory is per vm and
   *     vCPU)
   */
  public record GfnToPfnProt(
      long requestId, int vm, int vcpu, long gfn, boolean writeFault, ActorRef<PfnReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /** {@code srcu_read_unlock}: releases the lease of a {@link PfnAnswered}. No reply. */
  public record ReleaseLease(int vm, long lease) implements PageFrame.Command {}

  /**
   * Subscribes {@code subscriber} to VM {@code vm}'s MMU-notifier events (the VM need not exist
   * yet). Subscribing the same ref twice is one subscription. No reply.
   */
  public record SubscribeNotifier(int vm, ActorRef<NotifierEvent> subscriber)
      implements PageFrame.Command {}

  /** A subscriber applied the {@link NotifierEvent} of {@code (vm, notifierSeq)}. */
  public record NotifierAck(int vm, long notifierSeq) implements PageFrame.Command {}

  /**
   * An MMU-notifier invalidation (spec 5.7): the host mappings behind guest frames {@code
   * [gfnStart, gfnEnd)} of VM {@code vm} changed, and the VM's sequence is now {@code notifierSeq}.
   * The subscriber flushes what it maps there, then tells {@code replyTo} {@code NotifierAck(vm,
   * notifierSeq)}, once per event.
   */
  public record NotifierEvent(
      int vm, long gfnStart, long gfnEnd, long notifierSeq, ActorRef<NotifierAck> replyTo)
      implements CborSerializable {}

  /** What a {@link GfnToPfnProt} requester receives. */
  public sealed interface PfnReply extends PageFrame.Reply
      permits PfnAnswered, PageFrame.Rejected, PageFrame.Failed {}

  /**
   * The answer to {@link GfnToPfnProt}.
   *
   * @param result the core's result (status, pfn, writable, notifier sequence read at the start)
   * @param lease the lease to release with {@link ReleaseLease}
   */
  public record PfnAnswered(long requestId, PfnResult result, long lease) implements PfnReply {}
}
