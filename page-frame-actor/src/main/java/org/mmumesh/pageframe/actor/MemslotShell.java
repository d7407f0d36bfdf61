package org.mmumesh.pageframe.actor;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.pageframe.actor.MemslotProtocol.AddSlot;
import org.mmumesh.pageframe.actor.MemslotProtocol.RemoveSlot;
import org.mmumesh.pageframe.actor.MemslotProtocol.SlotAdded;
import org.mmumesh.pageframe.actor.MemslotProtocol.SlotReply;
import org.mmumesh.pageframe.actor.MemslotProtocol.SlotUpdateCompleted;
import org.mmumesh.pageframe.actor.PageFrame.RequestKey;
import org.mmumesh.shell.Attempt;

/**
 * The handlers of {@link MemslotProtocol} in the host's {@link PageFrame} (spec 5.7, 8.8): adding a
 * memslot is answered at once; removing one publishes the update (SRCU: {@code
 * synchronize_srcu_expedited}) and its {@link SlotUpdateCompleted} waits until the range's
 * invalidation was acknowledged and every lease taken under the old generation was released (the
 * core's ticket completes). A retry of a removal still waiting joins it (one more reply, no second
 * update); a completed one is answered from the PageFrame's remembered replies.
 *
 * <p>State: the removals whose ticket has not completed, by ticket. Lost with the entity, like the
 * frames.
 */
final class MemslotShell {

  /** A memslot update whose reply waits for its ticket; retries add their replyTo. */
  static final class SlotWaiter {
    private final RequestKey key;
    private final long ticket;
    private final List<ActorRef<SlotReply>> replyTos = new ArrayList<>(1);

    private SlotWaiter(RequestKey key, long ticket, ActorRef<SlotReply> replyTo) {
      this.key = key;
      this.ticket = ticket;
      replyTos.add(replyTo);
    }

    /** A retry of the same removal: it is answered too when the ticket completes. */
    void join(ActorRef<SlotReply> replyTo) {
      replyTos.add(replyTo);
    }
  }

  private final PageFrame shell;
  private final PageFrames core;
  private final Long2ObjectOpenHashMap<SlotWaiter> waitingTickets = new Long2ObjectOpenHashMap<>();

  MemslotShell(PageFrame shell, PageFrames core) {
    this.shell = shell;
    this.core = core;
    core.addSlotUpdateListener((vm, ticket) -> onTicketCompleted(ticket));
  }

  Behavior<PageFrame.Command> onAddSlot(AddSlot m) {
    RequestKey key = new RequestKey("AddSlot", m.vm(), m.requestId());
    if (shell.replayed(key, m.replyTo())) {
      return shell;
    }
    return Attempt.of(
            () ->
                core.addSlot(
                    m.vm(), m.slotId(), m.baseGfn(), m.npages(), m.hvaPage(), m.readOnly()))
        .fold(
            ticket -> {
              SlotAdded reply = new SlotAdded(m.requestId(), ticket, core.slotGeneration(m.vm()));
              shell.remember(key, reply);
              return shell.answer(() -> m.replyTo().tell(reply));
            },
            why -> shell.reject(m, why),
            e -> shell.failed(e, "AddSlot", m.vm(), -1, m.baseGfn(), m.requestId(), m.replyTo()));
  }

  Behavior<PageFrame.Command> onRemoveSlot(RemoveSlot m) {
    RequestKey key = new RequestKey("RemoveSlot", m.vm(), m.requestId());
    if (shell.replayed(key, m.replyTo())) {
      return shell;
    }
    return Attempt.of(() -> core.beginRemoveSlot(m.vm(), m.slotId()))
        .fold(
            ticket -> slotUpdate(key, ticket, m.replyTo()),
            why -> shell.reject(m, why),
            e -> shell.failed(e, "RemoveSlot", m.vm(), -1, -1, m.requestId(), m.replyTo()));
  }

  /** A removal was published: its reply waits for the notifier acks, then for the ticket. */
  private Behavior<PageFrame.Command> slotUpdate(
      RequestKey key, long ticket, ActorRef<SlotReply> replyTo) {
    SlotWaiter w = new SlotWaiter(key, ticket, replyTo);
    shell.remember(key, w);
    return shell.answer(
        () -> {
          if (core.isComplete(ticket)) {
            complete(w);
          } else {
            shell.count(ShellCounter.SLOT_UPDATES_WAITED);
            waitingTickets.put(ticket, w);
          }
        });
  }

  /** Called by the core (inside a lease release) when a memslot update completed. */
  private void onTicketCompleted(long ticket) {
    SlotWaiter w = waitingTickets.remove(ticket);
    if (w != null) {
      complete(w);
    }
  }

  private void complete(SlotWaiter w) {
    SlotUpdateCompleted reply = new SlotUpdateCompleted(w.key.requestId(), w.ticket);
    shell.replaceRemembered(w.key, reply);
    for (ActorRef<SlotReply> r : w.replyTos) {
      r.tell(reply);
    }
  }
}
