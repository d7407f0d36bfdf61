package org.mmumesh.pageframe.actor;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;

/**
 * The {@link PageFrame}'s frame-contents sub-protocol: the stores vCPUs made through writable host
 * mappings, reads of frame contents, counters and the invariant check. Every command here is
 * handled at once, also while a notifier round is in flight (never stashed), by {@link
 * FrameContents} and {@link PageFrame}.
 */
public interface FrameContentsProtocol {
  /**
   * The stores a vCPU made through writable host mappings, in program order: {@code
   * PageFrames.storeFrame(pfns[i], offsets[i], values[i])} for each i. Answered {@link StoresDone};
   * a store the core refuses as an isolation violation (the frame is free or shared) is counted in
   * {@code refused} and logged, the others are applied. Processed at once, also while a notifier
   * round is in flight (never stashed: the vCPU acknowledges a TLB shootdown only after its stores
   * were applied, and the round may be waiting on that ack). The last reply per (vm, vCPU) is
   * remembered: the same requestId again is answered from memory, not applied twice.
   *
   * @param vcpu the storing vCPU, 0 to {@link PageFrame#MAX_VCPU}
   */
  public record ApplyStores(
      long requestId,
      int vm,
      int vcpu,
      int[] pfns,
      int[] offsets,
      long[] values,
      ActorRef<StoresReply> replyTo)
      implements PageFrame.Command {

    @Override
    public boolean equals(Object o) {
      return o instanceof ApplyStores b
          && b.requestId == requestId
          && b.vm == vm
          && b.vcpu == vcpu
          && Arrays.equals(b.pfns, pfns)
          && Arrays.equals(b.offsets, offsets)
          && Arrays.equals(b.values, values)
          && Objects.equals(b.replyTo, replyTo);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
          requestId,
          vm,
          vcpu,
          Arrays.hashCode(pfns),
          Arrays.hashCode(offsets),
          Arrays.hashCode(values),
          replyTo);
    }

    @Override
    public String toString() {
      return "ApplyStores[requestId="
          + requestId
          + ", vm="
          + vm
          + ", vcpu="
          + vcpu
          + ", pfns="
          + Arrays.toString(pfns)
          + ", offsets="
          + Arrays.toString(offsets)
          + ", values="
          + Arrays.toString(values)
          + ", replyTo="
          + replyTo
          + "]";
    }
  }

  /**
   * Read-only: the content fingerprints of guest frames {@code [gfnStart, gfnStart + count)} of VM
   * {@code vm}, each the fingerprint of the frame its host PTE maps, or {@link
   * org.mmumesh.common.Fingerprint#ZERO} (the zero page's content) when no frame is mapped or no
   * memslot covers the gfn. Changes nothing, takes no lease, handled at once. {@code count} 0 to
   * {@link PageFrame#MAX_READ_FRAMES}: a larger range (a VM of more pages) is read in consecutive
   * chunks (chunks of {@link PageFrame#READ_FRAMES_CHUNK} when the reply may cross nodes).
   */
  public record ReadFrames(
      long requestId, int vm, long gfnStart, int count, ActorRef<FramesReply> replyTo)
      implements PageFrame.Command {}

  /**
   * Read-only: the word a load at byte {@code offset} (0 to 4095) of host frame {@code pfn} returns
   * ({@link org.mmumesh.common.Fingerprint#loadWord}), for a vCPU's traced access. {@code vm} must
   * exist and {@code pfn} be a live frame. Changes nothing, handled at once, answered {@link
   * WordRead} or {@link PageFrame.Rejected}.
   */
  public record ReadWord(long requestId, int vm, int pfn, int offset, ActorRef<FramesReply> replyTo)
      implements PageFrame.Command {}

  /** The core's counters, this shell's counters and the leases held per VM. */
  public record GetStats(ActorRef<StatsReply> replyTo) implements PageFrame.Command {}

  /**
   * Runs {@link PageFrames#invariantViolations()}; with {@code incremental}, {@link
   * PageFrames#invariantViolationsIncremental()} and the KSM scanner's {@link
   * FrameScanner#counterViolationsIncremental()} (prefixed {@code ksm:}), each for what changed
   * since the previous incremental check. (The full KSM recount answers {@link GetKsmCounters}.)
   */
  public record CheckInvariants(boolean incremental, ActorRef<InvariantsReply> replyTo)
      implements PageFrame.Command {
    /** The full check. */
    public CheckInvariants(ActorRef<InvariantsReply> replyTo) {
      this(false, replyTo);
    }
  }

  /** What an {@link ApplyStores} requester receives. */
  public sealed interface StoresReply extends PageFrame.Reply
      permits StoresDone, PageFrame.Rejected {}

  /** What a {@link ReadFrames} requester receives. */
  public sealed interface FramesReply extends PageFrame.Reply
      permits WordRead, FramesRead, PageFrame.Rejected {}

  /**
   * The answer to {@link ApplyStores}: {@code applied + refused} is the number of stores.
   *
   * @param refused stores the core refused (the frame was free or shared: isolation), not applied
   */
  public record StoresDone(long requestId, int applied, int refused) implements StoresReply {}

  /** The answer to {@link ReadWord}: the frame's content fingerprint and the loaded word. */
  public record WordRead(long requestId, int pfn, long fingerprint, long value)
      implements FramesReply {}

  /** The answer to {@link ReadFrames}: {@code fingerprints[i]} is gfn {@code gfnStart + i}'s. */
  public record FramesRead(long requestId, int vm, long gfnStart, long[] fingerprints)
      implements FramesReply {

    @Override
    public boolean equals(Object o) {
      return o instanceof FramesRead b
          && b.requestId == requestId
          && b.vm == vm
          && b.gfnStart == gfnStart
          && Arrays.equals(b.fingerprints, fingerprints);
    }

    @Override
    public int hashCode() {
      return Objects.hash(requestId, vm, gfnStart, Arrays.hashCode(fingerprints));
    }

    @Override
    public String toString() {
      return "FramesRead[requestId="
          + requestId
          + ", vm="
          + vm
          + ", gfnStart="
          + gfnStart
          + ", fingerprints="
          + Arrays.toString(fingerprints)
          + "]";
    }
  }

  /**
   * @param counters the core's counters, then this shell's (non-zero ones)
   * @param leasesHeld leases currently held per VM (core count)
   */
  public record StatsReply(Map<String, Long> counters, Map<Integer, Integer> leasesHeld)
      implements CborSerializable {}

  /** The core's invariant violations (empty when consistent). */
  public record InvariantsReply(List<String> violations) implements CborSerializable {
    /** True when there is no violation. */
    public boolean ok() {
      return violations.isEmpty();
    }
  }
}
