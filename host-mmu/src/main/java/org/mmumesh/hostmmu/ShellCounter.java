package org.mmumesh.hostmmu;

/** The {@link HostMmu} shell's counters, reported after the core's in its {@code StatsReply}. */
public enum ShellCounter {
  /** A shootdown was sent to at least one subscriber. */
  SHOOTDOWNS,
  /** A shootdown completed by its timeout. */
  SHOOTDOWN_TIMEOUTS,
  /** vCPUs that had not acknowledged a shootdown at its timeout. */
  SHOOTDOWN_UNANSWERED_VCPUS,
  /** A retried request answered from memory. */
  RETRIES_ANSWERED,
  /** A MapPage refused by the retry guard. */
  MAPS_REFUSED,
  /** A command rejected for bad input. */
  REJECTED,
  /** A command rejected because the stash was full. */
  STASH_FULL,
  /** The core threw; the shadow state was reset. */
  CORE_FAILURES,
  /** NotifierInvalidate commands applied. */
  NOTIFIER_EVENTS
}
