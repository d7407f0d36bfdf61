package org.mmumesh.hostmmu;

import java.util.Arrays;

/**
 * The last reply sent per vCPU for one request kind, so that a retried request (same {@code
 * requestId} from the same vCPU) is answered again without being applied twice. Pekko delivers at
 * most once, so requesters retry; keeping only the last reply per vCPU bounds the memory, which is
 * enough because a vCPU has one request of a kind outstanding at a time (it retries the same id
 * until answered, then moves on).
 *
 * @param <R> the reply type
 */
public final class ReplyMemory<R> {
  private final long[] requestIds;
  private final Object[] replies;

  /**
   * @param slots the number of vCPUs (or 1 for a VM-wide request kind)
   */
  public ReplyMemory(int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("slots: " + slots + " is out of range; allowed 1 or more");
    }
    requestIds = new long[slots];
    replies = new Object[slots];
    Arrays.fill(requestIds, Long.MIN_VALUE);
  }

  /** The reply remembered for {@code requestId} from {@code slot}, or null (a new request). */
  @SuppressWarnings("unchecked")
  public R replayed(int slot, long requestId) {
    Object r = replies[slot];
    return r != null && requestIds[slot] == requestId ? (R) r : null;
  }

  /** Remembers the reply to {@code requestId}, replacing the previous one of {@code slot}. */
  public void remember(int slot, long requestId, R reply) {
    requestIds[slot] = requestId;
    replies[slot] = reply;
  }
}
