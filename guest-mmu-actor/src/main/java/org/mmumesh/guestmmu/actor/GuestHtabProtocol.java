package org.mmumesh.guestmmu.actor;

import java.util.Arrays;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Command;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Failed;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Rejected;

/**
 * The part of the {@link GuestMmu} protocol that manages the guest HTAB for clients: H_ENTER,
 * H_REMOVE, the R/C bits and a read-only dump of the HTAB words. Like {@link GuestMmuProtocol},
 * {@code GuestMmu} implements this interface only to inherit its member types ({@code
 * GuestMmu.EnterHpte}); the replies' {@code Rejected} and {@code Failed} are {@link
 * GuestMmuProtocol}'s.
 */
public interface GuestHtabProtocol {

  /** The answers to {@link EnterHpte}. */
  sealed interface EnterReply extends CborSerializable permits HpteEntered, Rejected, Failed {}

  /** The answers to {@link RemoveHpte}. */
  sealed interface RemoveReply extends CborSerializable permits HpteRemoved, Rejected, Failed {}

  /** The answers to {@link ReadRc}. */
  sealed interface RcReply extends CborSerializable permits RcOf, Rejected, Failed {}

  /** H_ENTER: an HPTE for {@code ea} -> {@code gfn} with PP bits {@code pp}. */
  record EnterHpte(
      long requestId, int vcpu, long ea, long gfn, int pp, ActorRef<EnterReply> replyTo)
      implements Command {}

  /** The HPTE's guest-real address, or -1 when both PTEGs are full (nothing changed). */
  record HpteEntered(long requestId, long pteAddr) implements EnterReply {}

  /** H_REMOVE of the HPTE translating {@code ea}, then a tlbie carried out by the host. */
  record RemoveHpte(long requestId, int vcpu, long ea, ActorRef<RemoveReply> replyTo)
      implements Command {}

  /** Whether an HPTE was removed; sent after the host confirmed the flush. */
  record HpteRemoved(long requestId, boolean removed) implements RemoveReply {}

  /** The R and C bits of the HPTE translating {@code ea}; {@link Rejected} when none does. */
  record ReadRc(long requestId, int vcpu, long ea, ActorRef<RcReply> replyTo) implements Command {}

  /** The HPTE's referenced and changed bits. */
  record RcOf(long requestId, boolean r, boolean c) implements RcReply {}

  /**
   * Clears R and/or C of the HPTE translating {@code ea}, then the guest's tlbie of the page (so a
   * later store is seen again); answered {@link RcOf} with the bits <em>before</em> the change,
   * after the host confirmed the flush; {@link Rejected} when no HPTE translates {@code ea}.
   */
  record ClearRc(
      long requestId, int vcpu, long ea, boolean clearR, boolean clearC, ActorRef<RcReply> replyTo)
      implements Command {}

  /**
   * Read-only: the guest HTAB's non-zero words (guest memory, e.g. for comparing two engines): the
   * words of every table the VM's vCPUs have used (one table unless a guest set SDR1). Answered
   * {@link HtabDumped}; changes nothing.
   */
  record DumpHtab(long requestId, ActorRef<HtabReply> replyTo) implements Command {}

  /** What a {@link DumpHtab} requester receives. */
  sealed interface HtabReply extends CborSerializable permits HtabDumped, Rejected {}

  /**
   * The guest HTAB's non-zero words in address order: {@code words[i]} is at guest-real address
   * {@code addrs[i]}.
   */
  record HtabDumped(long requestId, long[] addrs, long[] words) implements HtabReply {

    @Override
    public boolean equals(Object o) {
      return o instanceof HtabDumped d
          && d.requestId == requestId
          && Arrays.equals(d.addrs, addrs)
          && Arrays.equals(d.words, words);
    }

    @Override
    public int hashCode() {
      return Objects.hash(requestId, Arrays.hashCode(addrs), Arrays.hashCode(words));
    }

    @Override
    public String toString() {
      return "HtabDumped[requestId="
          + requestId
          + ", words="
          + words.length
          + ", addrs="
          + Arrays.toString(addrs)
          + ", words="
          + Arrays.toString(words)
          + "]";
    }
  }
}
