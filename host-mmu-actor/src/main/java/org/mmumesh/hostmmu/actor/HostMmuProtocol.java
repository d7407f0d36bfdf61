package org.mmumesh.hostmmu.actor;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.HostFlush;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.ShadowDump;

/**
 * The {@link HostMmu} actor's protocol: commands, the {@link TlbShootdown} it sends to vCPUs, and
 * the replies. {@code HostMmu} implements this interface only to inherit these member types, so
 * call sites keep reading {@code HostMmu.MapPage}, {@code HostMmu.Rejected}; a single-type import
 * must name the canonical {@code HostMmuProtocol.MapPage}.
 *
 * <p>Each command's {@code replyTo} accepts its success reply, {@link Rejected} (bad input: the
 * reason names the field and the allowed range; nothing changed) and {@link Failed} (the core
 * failed; the shadow state was reset). Every message implements {@link CborSerializable}.
 */
public interface HostMmuProtocol {

  // ---- protocol: commands ---------------------------------------------------------------------

  /** Every message the HostMmu accepts. */
  sealed interface Command extends CborSerializable
      permits Lookup,
          MapPage,
          UnmapPage,
          GuestTlbie,
          FlushVcpu,
          NotifierInvalidate,
          SubscribeTlb,
          TlbShootdownAck,
          GetStats,
          CheckInvariants,
          DumpShadow,
          HostMmuCheckpointProtocol.CheckpointState,
          HostMmuCheckpointProtocol.RestoreState,
          HostMmu.ShootdownTimedOut {}

  /**
   * The hardware's HTAB search after a vCPU TLB miss (the fast path): SID map, host VPN, HTAB.
   *
   * @param gvsid the guest VSID of {@code ea}'s segment, with VSID_PR in problem state
   */
  record Lookup(long requestId, int vcpu, long gvsid, long ea, ActorRef<LookupReply> replyTo)
      implements Command {}

  /**
   * {@code kvmppc_mmu_map_page} after gfn-to-pfn (spec 5.3/5.4, fault step 4).
   *
   * @param pfn the host frame from gfn-to-pfn
   * @param writable gfn-to-pfn's {@code writable}
   * @param guardSeq the notifier sequence read with the gfn-to-pfn, or negative for no guard
   */
  record MapPage(
      long requestId,
      int vcpu,
      GuestPte pte,
      long gvsid,
      int pfn,
      boolean writable,
      long guardSeq,
      ActorRef<MapReply> replyTo)
      implements Command {}

  /** {@code kvmppc_mmu_unmap_page} (spec 5.5): {@code pte_vflush} of one vpage on one vCPU. */
  record UnmapPage(
      long requestId, int vcpu, GuestPte pte, boolean vsid64k, ActorRef<UnmapReply> replyTo)
      implements Command {}

  /**
   * A guest tlbie (spec 5.6 "Users"): {@code pte_flush} or {@code pte_vflush} on every vCPU.
   *
   * @param flush what the guest MMU computed (serialized with a type name: {@code flush} or {@code
   *     vflush})
   */
  record GuestTlbie(
      long requestId,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "t")
          @JsonSubTypes({
            @JsonSubTypes.Type(value = HostFlush.PteFlush.class, name = "flush"),
            @JsonSubTypes.Type(value = HostFlush.PteVflush.class, name = "vflush")
          })
          HostFlush flush,
      ActorRef<FlushReply> replyTo)
      implements Command {}

  /** {@code pte_flush(vcpu, 0, 0)}: everything of one vCPU (KVM_REQ_TLB_FLUSH at guest entry). */
  record FlushVcpu(long requestId, int vcpu, ActorRef<FlushReply> replyTo) implements Command {}

  /**
   * An MMU-notifier invalidation (spec 5.7) of guest frames {@code [gfnStart, gfnEnd)}, reported
   * after the page-frame side bumped the VM's notifier sequence to {@code notifierSeq}.
   *
   * @param fullFlush quirk Q8: {@code kvm_flush_remote_tlbs}, deferred as in the kernel: every vCPU
   *     gets KVM_REQ_TLB_FLUSH (a {@link TlbShootdown} with {@code flushRequested}) and flushes all
   *     its shadow PTEs ({@link FlushVcpu}) at its next guest entry; nothing is flushed here.
   *     False: {@code pte_pflush} of the guest-real range on every vCPU, now
   */
  record NotifierInvalidate(
      long gfnStart,
      long gfnEnd,
      long notifierSeq,
      boolean fullFlush,
      ActorRef<NotifierReply> replyTo)
      implements Command {}

  /**
   * Subscribes {@code vcpuRef} to TLB shootdowns for vCPU {@code vcpu}, replacing an earlier ref of
   * that vCPU. The subscriber is sent a {@link TlbShootdown} with the current epoch at once (no ack
   * awaited).
   *
   * @param knownEpoch the highest epoch the vCPU has seen (0 if none); the epoch moves above it
   */
  record SubscribeTlb(int vcpu, long knownEpoch, ActorRef<TlbShootdown> vcpuRef)
      implements Command {
    /** A first subscription (known epoch 0). */
    public SubscribeTlb(int vcpu, ActorRef<TlbShootdown> vcpuRef) {
      this(vcpu, 0, vcpuRef);
    }
  }

  /** A vCPU emptied its TLB of every entry older than {@code epoch}. */
  record TlbShootdownAck(int vcpu, long epoch) implements Command {}

  /** Counters of the core and of this shell. */
  record GetStats(ActorRef<StatsReply> replyTo) implements Command {}

  /**
   * Runs {@link HostMmuCore#checkInvariants()}, or with {@code incremental} {@link
   * HostMmuCore#checkInvariantsIncremental} (what changed since the previous incremental check).
   */
  record CheckInvariants(boolean incremental, ActorRef<InvariantsReply> replyTo)
      implements Command {
    /** The full check. */
    public CheckInvariants(ActorRef<InvariantsReply> replyTo) {
      this(false, replyTo);
    }
  }

  /**
   * Read-only: {@link HostMmuCore#shadowDump()} (every vCPU's shadow PTEs in canonical order, and
   * the core's counters), answered {@link ShadowDumped} at once, also during a shootdown.
   */
  record DumpShadow(ActorRef<ShadowDumped> replyTo) implements Command {}

  // ---- protocol: events sent to vCPUs --------------------------------------------------------

  /**
   * {@code tlbie; tlbsync}: empty your TLB of entries older than {@code epoch}, then ack. With
   * {@code flushRequested} it is also the IPI of {@code kvm_flush_remote_tlbs} (Q8, spec 5.7):
   * KVM_REQ_TLB_FLUSH is pending for this vCPU, which must send {@link FlushVcpu} before it next
   * enters the guest. The flag stays set in every shootdown to that vCPU until its {@link
   * FlushVcpu} is applied, so a lost message does not lose the request.
   */
  record TlbShootdown(long epoch, ActorRef<TlbShootdownAck> ack, boolean flushRequested)
      implements CborSerializable {
    /** A shootdown without a pending flush request. */
    public TlbShootdown(long epoch, ActorRef<TlbShootdownAck> ack) {
      this(epoch, ack, false);
    }
  }

  // ---- protocol: replies ----------------------------------------------------------------------

  /** Every reply. */
  sealed interface Reply extends CborSerializable {}

  /** What a {@link Lookup} requester receives. */
  sealed interface LookupReply extends Reply {}

  /** What a {@link MapPage} requester receives. */
  sealed interface MapReply extends Reply {}

  /** What an {@link UnmapPage} requester receives. */
  sealed interface UnmapReply extends Reply {}

  /** What a {@link GuestTlbie} or {@link FlushVcpu} requester receives. */
  sealed interface FlushReply extends Reply {}

  /** What a {@link NotifierInvalidate} sender receives. */
  sealed interface NotifierReply extends Reply {}

  /**
   * The answer to {@link Lookup}.
   *
   * @param slot the host HTAB slot that matched, or -1: a miss (the vCPU takes a NOHPTE fault)
   * @param protection the slot's protection, {@link org.mmumesh.hostmmu.Lookup#MISS} on a miss
   * @param pfn the host frame, or -1 on a miss
   * @param epoch the epoch to stamp the TLB entry with
   */
  record LookedUp(
      long requestId, int slot, org.mmumesh.hostmmu.Lookup protection, int pfn, long epoch)
      implements LookupReply {}

  /**
   * The answer to {@link MapPage}.
   *
   * @param installed false: refused by the retry guard (an invalidation since {@code guardSeq})
   * @param readOnly installed read-only
   * @param markDirty {@code mark_page_dirty(gfn)} applies
   */
  record Mapped(long requestId, boolean installed, boolean readOnly, boolean markDirty, long epoch)
      implements MapReply {}

  /** The answer to {@link UnmapPage}: shadow entries removed. */
  record Unmapped(long requestId, int removed, long epoch) implements UnmapReply {}

  /** The answer to {@link GuestTlbie} and {@link FlushVcpu}: shadow entries removed. */
  record Flushed(long requestId, int removed, long epoch) implements FlushReply {}

  /** The invalidation was applied and every subscribed TLB shot down (or timed out). */
  record NotifierAcked(long notifierSeq, int removed, long epoch) implements NotifierReply {
    /** An ack with no detail. */
    public NotifierAcked(long notifierSeq) {
      this(notifierSeq, 0, 0);
    }
  }

  /**
   * Bad input; nothing changed. {@code requestId} is the command's, or the notifier sequence for
   * {@link NotifierInvalidate}; {@code reason} names the field and the allowed range.
   */
  record Rejected(long requestId, String reason)
      implements LookupReply,
          MapReply,
          UnmapReply,
          FlushReply,
          NotifierReply,
          HostMmuCheckpointProtocol.CheckpointReply {}

  /**
   * The core failed unexpectedly; the shadow state was reset to empty (every TLB shot down) and the
   * command may be retried.
   */
  record Failed(long requestId, String cause)
      implements LookupReply, MapReply, UnmapReply, FlushReply, NotifierReply {}

  /**
   * @param counters the core's {@link HostMmuStats#toMap()} followed by this shell's counters
   */
  record StatsReply(Map<String, Long> counters, long epoch, long latestNotifierSeq, int subscribers)
      implements CborSerializable {}

  /** {@link InvariantReport} with the epoch. */
  record InvariantsReply(
      List<String> violations,
      int liveEntries,
      int staleEntries,
      int unreachableEntries,
      int htabValid,
      long epoch)
      implements CborSerializable {
    /** True when there is no violation. */
    public boolean ok() {
      return violations.isEmpty();
    }
  }

  /** The answer to {@link DumpShadow}. */
  record ShadowDumped(ShadowDump dump, long epoch) implements CborSerializable {}
}
