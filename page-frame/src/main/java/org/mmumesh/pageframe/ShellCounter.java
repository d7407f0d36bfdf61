package org.mmumesh.pageframe;

/** The {@link PageFrame} shell's own counters, reported after the core's in its stats reply. */
public enum ShellCounter {
  /** Leases handed out. */
  LEASES_GRANTED,
  /** Leases released by their holder. */
  LEASES_RELEASED,
  /** Leases released by the actor at their timeout. */
  LEASES_EXPIRED,
  /** ReleaseLease of a lease not held (already released or expired, or foreign). */
  LEASE_RELEASES_UNKNOWN,
  /** A retried request answered from memory. */
  RETRIES_ANSWERED,
  /** A command rejected for bad input. */
  REJECTED,
  /** A command rejected because the stash was full. */
  STASH_FULL,
  /** The core threw unexpectedly. */
  CORE_FAILURES,
  /** NotifierEvent messages sent (one per subscriber per event). */
  NOTIFIER_EVENTS_SENT,
  /** Replies that waited for notifier acks. */
  NOTIFIER_ROUNDS,
  /** Rounds that ended by their timeout. */
  NOTIFIER_ACK_TIMEOUTS,
  /** Acks still owed at those timeouts. */
  NOTIFIER_ACKS_MISSING,
  /** Acks that matched no owed event (late or duplicate). */
  NOTIFIER_ACKS_IGNORED,
  /** Memslot updates whose reply had to wait for leases. */
  SLOT_UPDATES_WAITED,
  /** Stores applied by {@link FrameContentsProtocol.ApplyStores}. */
  STORES_APPLIED,
  /** Stores refused by the core (isolation) in {@link FrameContentsProtocol.ApplyStores}. */
  STORES_REFUSED,
  /**
   * ksmd wake-ups completed (timer ticks and {@code KsmProtocol.KsmScan}s, each counted once
   * however many handshakes it waited for; retries answered from memory not counted).
   */
  KSM_BATCHES,
  /** KSM merge handshakes: batches or full-scan steps that stopped to wait for acks. */
  KSM_HANDSHAKES
}
