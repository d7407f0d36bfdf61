package org.mmumesh.vcpu.actor;

import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.VcpuProtocol.Command;
import org.mmumesh.vcpu.actor.VcpuProtocol.Internal;

/**
 * How a {@link Vcpu} hears its peers: one typed message adapter per reply family of {@link
 * GuestMmu}, {@link HostMmu} and {@link PageFrame}, made once when the actor starts, each wrapping
 * the reply into its own internal message (style guide 21: no catch-all {@code Object} answer, no
 * child actor). The request id that ties a reply to the vCPU's one outstanding request is in the
 * reply record.
 *
 * <p><b>Refusals.</b> Each peer has one {@code Rejected} and one {@code Failed} record shared by
 * all its reply families, and a message adapter is chosen by the reply's class (the most recently
 * registered adapter whose class matches wins), so a refusal would land in whichever family adapter
 * came last. The refusal records therefore get adapters of their own, registered after the
 * families: every peer's {@code Rejected} and {@code Failed} arrives as one {@link Refused}, which
 * the vCPU matches to its outstanding request by id and interprets by the request's kind.
 */
final class PeerReplies {

  /** Which peer refused. */
  enum Peer {
    GUEST,
    HOST,
    FRAMES
  }

  /** A {@code GuestMmu.Translated}. */
  record XlateReplied(GuestMmu.XlateReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code GuestMmu.ExceptionHandled}. */
  record ExceptionReplied(GuestMmu.ExceptionReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code GuestMmu.VsidOf}. */
  record VsidReplied(GuestMmu.VsidReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code GuestMmu.ModeOf}. */
  record ModeReplied(GuestMmu.ModeReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code GuestMmu.VcpuStateSet}. */
  record GuestStateReplied(GuestMmu.StateReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code GuestMmu.RcOf}. */
  record RcReplied(GuestMmu.RcReply reply) implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code HostMmu.LookedUp}. */
  record LookupReplied(HostMmu.LookupReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code HostMmu.Mapped}. */
  record MapReplied(HostMmu.MapReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code HostMmu.Unmapped}. */
  record UnmapReplied(HostMmu.UnmapReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code HostMmu.Flushed}. */
  record FlushReplied(HostMmu.FlushReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A TLB shootdown of the VM's HostMmu (not a reply: it may come at any time). */
  record ShootdownReceived(HostMmu.TlbShootdown shootdown)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code PageFrame.PfnAnswered}. */
  record PfnReplied(PageFrame.PfnReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code PageFrame.WordRead} (a traced load's word). */
  record FramesReplied(PageFrame.FramesReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** A {@code PageFrame.StoresDone}. */
  record StoresReplied(PageFrame.StoresReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /**
   * A peer's {@code Rejected} ({@code rejected}: bad input or missing state, e.g. no guest HPTE for
   * a {@code ReadRc}) or {@code Failed} (its core threw) of request {@code requestId} (-1 for a
   * {@code GetMode}); {@code reason} names the peer and says why.
   */
  record Refused(Peer peer, long requestId, boolean rejected, String reason)
      implements Internal, NoSerializationVerificationNeeded {}

  final ActorRef<GuestMmu.XlateReply> xlate;
  final ActorRef<GuestMmu.ExceptionReply> exception;
  final ActorRef<GuestMmu.VsidReply> vsid;
  final ActorRef<GuestMmu.ModeReply> mode;
  final ActorRef<GuestMmu.StateReply> guestState;
  final ActorRef<GuestMmu.RcReply> rc;
  final ActorRef<HostMmu.LookupReply> lookup;
  final ActorRef<HostMmu.MapReply> map;
  final ActorRef<HostMmu.UnmapReply> unmap;
  final ActorRef<HostMmu.FlushReply> flush;
  final ActorRef<HostMmu.TlbShootdown> shootdowns;
  final ActorRef<PageFrame.PfnReply> pfn;
  final ActorRef<PageFrame.FramesReply> words;
  final ActorRef<PageFrame.StoresReply> stores;

  /** Registers the adapters with {@code ctx} (the families first, the refusals last). */
  PeerReplies(ActorContext<Command> ctx) {
    xlate = ctx.messageAdapter(GuestMmu.XlateReply.class, XlateReplied::new);
    exception = ctx.messageAdapter(GuestMmu.ExceptionReply.class, ExceptionReplied::new);
    vsid = ctx.messageAdapter(GuestMmu.VsidReply.class, VsidReplied::new);
    mode = ctx.messageAdapter(GuestMmu.ModeReply.class, ModeReplied::new);
    guestState = ctx.messageAdapter(GuestMmu.StateReply.class, GuestStateReplied::new);
    rc = ctx.messageAdapter(GuestMmu.RcReply.class, RcReplied::new);
    lookup = ctx.messageAdapter(HostMmu.LookupReply.class, LookupReplied::new);
    map = ctx.messageAdapter(HostMmu.MapReply.class, MapReplied::new);
    unmap = ctx.messageAdapter(HostMmu.UnmapReply.class, UnmapReplied::new);
    flush = ctx.messageAdapter(HostMmu.FlushReply.class, FlushReplied::new);
    shootdowns = ctx.messageAdapter(HostMmu.TlbShootdown.class, ShootdownReceived::new);
    pfn = ctx.messageAdapter(PageFrame.PfnReply.class, PfnReplied::new);
    words = ctx.messageAdapter(PageFrame.FramesReply.class, FramesReplied::new);
    stores = ctx.messageAdapter(PageFrame.StoresReply.class, StoresReplied::new);
    // last: these win over the family adapters above, which their classes also match
    ctx.messageAdapter(
        GuestMmu.Rejected.class,
        r -> new Refused(Peer.GUEST, r.requestId(), true, "guest MMU rejected: " + r.reason()));
    ctx.messageAdapter(
        GuestMmu.Failed.class,
        r -> new Refused(Peer.GUEST, r.requestId(), false, "guest MMU failed: " + r.cause()));
    ctx.messageAdapter(
        HostMmu.Rejected.class,
        r -> new Refused(Peer.HOST, r.requestId(), true, "host MMU rejected: " + r.reason()));
    ctx.messageAdapter(
        HostMmu.Failed.class,
        r -> new Refused(Peer.HOST, r.requestId(), false, "host MMU failed: " + r.cause()));
    ctx.messageAdapter(
        PageFrame.Rejected.class,
        r -> new Refused(Peer.FRAMES, r.requestId(), true, "page frames rejected: " + r.reason()));
    ctx.messageAdapter(
        PageFrame.Failed.class,
        r -> new Refused(Peer.FRAMES, r.requestId(), false, "page frames failed: " + r.cause()));
  }
}
