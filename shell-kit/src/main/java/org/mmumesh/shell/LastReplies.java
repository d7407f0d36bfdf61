package org.mmumesh.shell;

import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;

/**
 * The last reply sent to each requester (a vCPU, keyed by a long such as {@code vm << 32 | vcpu}),
 * so that a retried request (the same {@code requestId} from the same requester) is answered again
 * without being applied twice. Pekko delivers at most once, so requesters retry; keeping only the
 * last reply per requester bounds the memory, which is enough because a requester has one request
 * of a kind outstanding at a time (it retries the same id until answered, then moves on).
 *
 * @param <R> the reply type
 */
public final class LastReplies<R> {
  private record Last<R>(long requestId, R reply) {}

  private final Long2ObjectOpenHashMap<Last<R>> last = new Long2ObjectOpenHashMap<>();

  /** The key of vCPU {@code vcpu} of VM {@code vm}. */
  public static long requester(int vm, int vcpu) {
    return ((long) vm << 32) | (vcpu & 0xFFFF_FFFFL);
  }

  /** The reply remembered for {@code requestId} from {@code requester}, or null (a new request). */
  public R replayed(long requester, long requestId) {
    Last<R> l = last.get(requester);
    return l != null && l.requestId() == requestId ? l.reply() : null;
  }

  /** Remembers the reply to {@code requestId}, replacing {@code requester}'s previous one. */
  public void remember(long requester, long requestId, R reply) {
    last.put(requester, new Last<>(requestId, reply));
  }

  /** The number of requesters remembered. */
  public int size() {
    return last.size();
  }
}
