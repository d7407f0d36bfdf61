package org.mmumesh.guestmmu.actor;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.Access;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.HostFlush;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.ClearRc;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.DumpHtab;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterHpte;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HtabReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RcReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.ReadRc;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RemoveHpte;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.RemoveReply;

/**
 * The {@link GuestMmu} actor's protocol: commands, their sealed reply families, and the guest tlbie
 * it sends to the VM's host MMU. {@code GuestMmu} implements this interface only to inherit these
 * member types, so call sites keep reading {@code GuestMmu.Xlate}, {@code GuestMmu.Rejected}; a
 * single-type import must name the canonical {@code GuestMmuProtocol.Xlate}.
 *
 * <p>The guest HTAB management for clients (H_ENTER, H_REMOVE, R/C, dump) is {@link
 * GuestHtabProtocol}.
 *
 * <p>Every request kind has its own reply family holding its success record plus {@link Rejected}
 * (bad input: the reason names the field and the allowed range; nothing changed) and, where a core
 * runs, {@link Failed}. Every message implements {@link CborSerializable} (Jackson CBOR across
 * nodes).
 */
public interface GuestMmuProtocol {

  /** Everything the actor accepts. */
  sealed interface Command extends CborSerializable
      permits Xlate,
          HandleException,
          EsidToVsid,
          GetMode,
          EnterHpte,
          RemoveHpte,
          ReadRc,
          ClearRc,
          SetVcpuState,
          GetKernelEvents,
          DumpHtab,
          GuestMmuCheckpointProtocol.CheckpointState,
          GuestMmuCheckpointProtocol.RestoreState,
          TlbieDone,
          GuestMmu.TlbieTimedOut {}

  /** The answers to {@link Xlate}. */
  sealed interface XlateReply extends CborSerializable {}

  /** The answers to {@link HandleException}. */
  sealed interface ExceptionReply extends CborSerializable {}

  /** The answers to {@link EsidToVsid}. */
  sealed interface VsidReply extends CborSerializable {}

  /** The answers to {@link GetMode}. */
  sealed interface ModeReply extends CborSerializable {}

  /** What a {@link SetVcpuState} requester receives. */
  sealed interface StateReply extends CborSerializable {}

  /**
   * The guest xlate of {@code ea} for {@code access} when {@code relocated} (guest-visible: R/C are
   * updated), and always the tagged guest VSID of {@code ea}'s segment (spec 6.2).
   */
  record Xlate(
      long requestId,
      int vcpu,
      long ea,
      Access access,
      boolean relocated,
      ActorRef<XlateReply> replyTo)
      implements Command {}

  /**
   * {@code result} is {@code port.xlate(vcpu, ea, access, true)} when relocated, else null; {@code
   * gvsid} is {@code esidToVsid(vcpu, ea >>> 28)} ({@code VsidTags.NO_VSID} when no segment).
   */
  record Translated(long requestId, XlateResult result, long gvsid) implements XlateReply {}

  /**
   * The guest kernel's handler for exception {@code vector} at {@code ea} with the DSISR / SRR1
   * bits the guest was given (spec 6.2 "reflect").
   */
  record HandleException(
      long requestId,
      int vcpu,
      int vector,
      long dsisr,
      long srr1Bits,
      long ea,
      ActorRef<ExceptionReply> replyTo)
      implements Command {}

  /**
   * The guest handled the exception: {@code retry} when the access should be retried, else {@code
   * failure} says why it failed (null on retry); {@code segmentsChanged} when the kernel loaded an
   * SLB entry, so the vCPU must drop its cached guest VSIDs. Sent after the host confirmed every
   * flush.
   */
  record ExceptionHandled(long requestId, boolean retry, String failure, boolean segmentsChanged)
      implements ExceptionReply {}

  /** {@code esid_to_vsid} for segment {@code esid} of vCPU {@code vcpu} (spec 5.2). */
  record EsidToVsid(long requestId, int vcpu, long esid, ActorRef<VsidReply> replyTo)
      implements Command {}

  /** The tagged guest VSID ({@code VsidTags.NO_VSID} when no segment translates it). */
  record VsidOf(long requestId, long gvsid) implements VsidReply {}

  /** The vCPU's translation mode. */
  record GetMode(int vcpu, ActorRef<ModeReply> replyTo) implements Command {}

  /** The mode as 3 bits: PR (4), IR (2), DR (1), as {@link GuestMmuPort#mode}. */
  record ModeOf(int mode) implements ModeReply {}

  /**
   * Changes vCPU {@code vcpu}'s translation state (segment registers, SLB, BATs, MSR bits, SDR1),
   * all or nothing: a change that does not fit the guest (an SLB entry on a 32-bit guest, an index
   * out of range, an SDR1 of 0 or naming a table that is misaligned or leaves guest memory) is
   * {@link Rejected} naming the change ({@code changes[i]}) and the field, and nothing changes.
   * Re-sending the same changes is harmless. The vCPU that uses this state must drop its cached
   * translations and, after an SDR1 change, every shadow PTE ({@code kvmppc_mmu_pte_flush(vcpu, 0,
   * 0)}): the {@code Vcpu} actor does both after every change that comes through it.
   */
  record SetVcpuState(
      long requestId, int vcpu, List<VcpuStateChange> changes, ActorRef<StateReply> replyTo)
      implements Command {}

  /** The changes are applied; {@code mode} is the vCPU's new mode bits (as {@link ModeOf}). */
  record VcpuStateSet(long requestId, int mode) implements StateReply {}

  /** The guest kernel's event counters (the engine's guest statistics). */
  record GetKernelEvents(ActorRef<KernelEvents> replyTo) implements Command {}

  /** How often the guest kernel did each thing ({@link GuestKernel.Event}). */
  record KernelEvents(
      long demandMaps, long evictions, long slbLoads, long protUpgrades, long misreportedNotFound)
      implements CborSerializable {}

  /** The host's answer to {@link HostTlbie}: the flush is done on every vCPU of the VM. */
  record TlbieDone(long requestId) implements Command {}

  /**
   * Bad input: {@code reason} names the field and the allowed range (or the missing state, e.g. no
   * HPTE for {@link ReadRc}). Nothing changed. {@code requestId} is -1 for {@link GetMode}.
   */
  record Rejected(long requestId, String reason)
      implements XlateReply,
          ExceptionReply,
          VsidReply,
          ModeReply,
          EnterReply,
          RemoveReply,
          RcReply,
          StateReply,
          HtabReply,
          GuestMmuCheckpointProtocol.CheckpointReply {}

  /**
   * A core threw unexpectedly (logged with the vCPU and address), or the host did not confirm a
   * flush of a {@link RemoveHpte} in time.
   */
  record Failed(long requestId, String cause)
      implements XlateReply,
          ExceptionReply,
          VsidReply,
          EnterReply,
          RemoveReply,
          RcReply,
          StateReply {}

  /**
   * A guest tlbie for the VM's host MMU (spec 5.6 "Users"): carry out {@code flush} on every vCPU
   * of the VM, removing the entries from every vCPU TLB too, then answer {@link TlbieDone} with the
   * same {@code requestId}. Defined here because the host MMU module may not depend on this one's
   * users; the host side adapts it.
   */
  record HostTlbie(
      long requestId,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
          @JsonSubTypes({
            @JsonSubTypes.Type(value = HostFlush.PteFlush.class, name = "pteFlush"),
            @JsonSubTypes.Type(value = HostFlush.PteVflush.class, name = "pteVflush")
          })
          HostFlush flush,
      ActorRef<TlbieDone> replyTo)
      implements CborSerializable {}
}
