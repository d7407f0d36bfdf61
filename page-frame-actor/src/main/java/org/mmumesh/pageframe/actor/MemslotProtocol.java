package org.mmumesh.pageframe.actor;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * The {@link PageFrame}'s memslot sub-protocol: VMs, memslots ({@code KVM_SET_USER_MEMORY_REGION})
 * and boot-image loads, handled by {@link PageFrame} on its {@link PageFrames} core.
 *
 * <p>A memslot removal is published at once (later lookups see the new array) but its {@link
 * SlotUpdateCompleted} is sent only when the range's invalidation was acknowledged and every lease
 * taken on an older generation was released ({@code synchronize_srcu}, spec 8.8 TV61; see {@link
 * Leases}). Each command's reply is remembered by (kind, vm, requestId) for retries; a retry of a
 * removal still waiting for leases is answered when it completes. A memslot move ({@code
 * KVM_MR_MOVE}) is a removal and an add at the new base.
 */
public interface MemslotProtocol {
  /** Creates VM {@code vm} (0 to {@link PageFrames#MAX_VM}) with no memslots. */
  public record CreateVm(long requestId, int vm, ActorRef<VmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * KVM_SET_USER_MEMORY_REGION, create: guest frames {@code [baseGfn, baseGfn + npages)} onto host
   * pages {@code [hvaPage, ...)}. Visible at once; answered {@link SlotAdded} at once.
   */
  public record AddSlot(
      long requestId,
      int vm,
      int slotId,
      long baseGfn,
      long npages,
      long hvaPage,
      boolean readOnly,
      ActorRef<SlotReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * Removes memslot {@code slotId}; answered {@link SlotUpdateCompleted} after the slot's range was
   * invalidated (acknowledged) and every older lease released.
   */
  public record RemoveSlot(long requestId, int vm, int slotId, ActorRef<SlotReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /** Boot-image load: gives {@code gfn} a private frame holding {@code fingerprint}. */
  public record Populate(
      long requestId, int vm, long gfn, long fingerprint, ActorRef<PopulateReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /** What a {@link CreateVm} requester receives. */
  public sealed interface VmReply extends PageFrame.Reply
      permits VmCreated, PageFrame.Rejected, PageFrame.Failed {}

  /** What an {@link AddSlot} or {@link RemoveSlot} requester receives. */
  public sealed interface SlotReply extends PageFrame.Reply
      permits SlotAdded, SlotUpdateCompleted, PageFrame.Rejected, PageFrame.Failed {}

  /** What a {@link Populate} requester receives. */
  public sealed interface PopulateReply extends PageFrame.Reply
      permits Populated, PageFrame.Rejected, PageFrame.Failed {}

  /** VM created. */
  public record VmCreated(long requestId, int vm) implements VmReply {}

  /**
   * The memslot is published (visible to lookups).
   *
   * @param ticket the core's ticket of the update
   * @param generation the VM's memslot generation after it
   */
  public record SlotAdded(long requestId, long ticket, long generation) implements SlotReply {}

  /** A removal or move completed: invalidations acknowledged, every older lease released. */
  public record SlotUpdateCompleted(long requestId, long ticket) implements SlotReply {}

  /** The page holds the fingerprint in a private frame. */
  public record Populated(long requestId) implements PopulateReply {}
}
