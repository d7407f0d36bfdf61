package org.mmumesh.vcpu.actor;

import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * What a {@link Vcpu} reads from any reply of its peers ({@link GuestMmu}, {@link HostMmu}, {@link
 * PageFrame}) before it dispatches on it: the request id that ties it to the one outstanding
 * request, and the reason of a rejection or failure.
 */
final class VcpuReplies {

  private VcpuReplies() {}

  /** The request id of a peer's reply, or {@link VcpuWork#NONE} when {@code r} carries none. */
  static long requestIdOf(Object r) {
    if (r instanceof GuestMmu.Translated m) {
      return m.requestId();
    } else if (r instanceof GuestMmu.ExceptionHandled m) {
      return m.requestId();
    } else if (r instanceof GuestMmu.VsidOf m) {
      return m.requestId();
    } else if (r instanceof GuestMmu.Rejected m) {
      return m.requestId();
    } else if (r instanceof GuestMmu.Failed m) {
      return m.requestId();
    } else if (r instanceof GuestMmu.RcOf m) {
      return m.requestId();
    } else if (r instanceof GuestMmu.VcpuStateSet m) {
      return m.requestId();
    } else if (r instanceof HostMmu.LookedUp m) {
      return m.requestId();
    } else if (r instanceof HostMmu.Mapped m) {
      return m.requestId();
    } else if (r instanceof HostMmu.Unmapped m) {
      return m.requestId();
    } else if (r instanceof HostMmu.Flushed m) {
      return m.requestId();
    } else if (r instanceof HostMmu.Rejected m) {
      return m.requestId();
    } else if (r instanceof HostMmu.Failed m) {
      return m.requestId();
    } else if (r instanceof PageFrame.PfnAnswered m) {
      return m.requestId();
    } else if (r instanceof PageFrame.WordRead m) {
      return m.requestId();
    } else if (r instanceof PageFrame.Rejected m) {
      return m.requestId();
    } else if (r instanceof PageFrame.Failed m) {
      return m.requestId();
    }
    return VcpuWork.NONE;
  }

  /** The reason of a rejection or failure reply, or null when {@code r} is neither. */
  static String refusal(Object r) {
    if (r instanceof GuestMmu.Rejected m) {
      return "guest MMU rejected: " + m.reason();
    } else if (r instanceof GuestMmu.Failed m) {
      return "guest MMU failed: " + m.cause();
    } else if (r instanceof HostMmu.Rejected m) {
      return "host MMU rejected: " + m.reason();
    } else if (r instanceof HostMmu.Failed m) {
      return "host MMU failed: " + m.cause();
    } else if (r instanceof PageFrame.Rejected m) {
      return "page frames rejected: " + m.reason();
    } else if (r instanceof PageFrame.Failed m) {
      return "page frames failed: " + m.cause();
    }
    return "unexpected reply " + r;
  }
}
