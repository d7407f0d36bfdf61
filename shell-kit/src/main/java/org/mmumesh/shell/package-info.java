/**
 * The shell kit: what every actor shell around a pure core repeats, written once. {@link
 * org.mmumesh.shell.HeldReplies} (a reply held until a notifier or shootdown round completes, as a
 * behaviour switch with a stash), {@link org.mmumesh.shell.Attempt} (the core's exception rule: bad
 * input is rejected, anything else failed), {@link org.mmumesh.shell.LastReplies} and {@link
 * org.mmumesh.shell.RecentReplies} (remembered replies for idempotent retries), {@link
 * org.mmumesh.shell.DeadlineTicks} (deadlines on one periodic tick) and {@link
 * org.mmumesh.shell.EntityIds} (the structured sharding entity ids).
 *
 * <p><b>Why the kit has no shared {@code Rejected} record.</b> A shell answers a request through
 * the requester's typed {@code ActorRef<SlotReply>}; a rejection can only be sent there if its
 * class implements {@code SlotReply}, and a record in a lower module cannot implement an upper
 * module's reply families. A shared record would force every request to take a common root type
 * ({@code ActorRef<Object>}-like, losing the per-family typing), and since an actor's message
 * adapters dispatch by class, one requester could no longer tell which peer's adapter a shared
 * rejection belongs to. So each actor keeps one {@code Rejected} and one {@code Failed} in its
 * protocol (sealed into all its reply families), and the kit holds what produces them: {@link
 * org.mmumesh.shell.Attempt} (the rule) and {@link org.mmumesh.shell.HeldReplies} (the stash-full
 * path).
 */
package org.mmumesh.shell;
