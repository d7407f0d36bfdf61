package org.mmumesh.guestmmu.actor;

import com.google.protobuf.InvalidProtocolBufferException;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestMmuEntityState;
import org.mmumesh.guestmmu.GuestKernel;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.guestmmu.GuestSetup;

/**
 * The state of one {@link GuestMmu} entity as a {@code GuestMmuEntityState} (issue 13, style rule
 * 26): the guest MMU core ({@link GuestMmuPort#checkpoint()}), the guest kernel model ({@link
 * GuestKernel#checkpoint()}) and the kernel's event counters. Pure: the actor shell only decides
 * when (at a barrier) and swaps in what {@link #read} built.
 *
 * <p>Not written, because they are not state at a barrier: the tlbie bookkeeping ({@link
 * TlbieSync}: nothing in flight at a barrier, checked before), the per-vCPU retry cache (every
 * request is answered; a restore forgets it) and the per-request {@code segmentLoaded} flag.
 */
final class GuestMmuEntityCheckpoint {
  private GuestMmuEntityCheckpoint() {}

  /** The restored core, kernel and counters, ready to replace the actor's. */
  record Restored(GuestMmuPort port, GuestKernel kernel, long[] eventCounts) {}

  /** The entity's state as bytes. Pure: changes nothing. */
  static byte[] write(GuestMmuPort port, GuestKernel kernel, long[] eventCounts) {
    GuestMmuEntityState.Builder b =
        GuestMmuEntityState.newBuilder().setGuest(port.checkpoint()).setKernel(kernel.checkpoint());
    for (long c : eventCounts) {
      b.addGuestEventCounters(c);
    }
    return b.build().toByteArray();
  }

  /**
   * Builds a fresh core and kernel from {@code setup} and puts {@code bytes} into them; the
   * caller's objects are untouched, so a failure changes nothing.
   *
   * @throws IllegalArgumentException ({@link CheckpointMismatchException} for a state that does not
   *     fit) naming the field and both values or the allowed range
   */
  static Restored read(
      byte[] bytes,
      GuestSetup setup,
      GuestKernel.Events events,
      GuestKernel.HostFlushSink flushSink) {
    if (bytes == null) {
      throw new IllegalArgumentException("state: null; allowed: a GuestMmuEntityState");
    }
    GuestMmuEntityState s;
    try {
      s = GuestMmuEntityState.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "state: not a GuestMmuEntityState (" + e.getMessage() + ")");
    }
    if (!s.hasGuest()) {
      throw new CheckpointMismatchException("guest: missing; allowed: a GuestMmuState");
    }
    if (!s.hasKernel()) {
      throw new CheckpointMismatchException("kernel: missing; allowed: a GuestKernelState");
    }
    int n = GuestKernel.Event.values().length;
    CheckpointMismatchException.requireEqual(
        "guest_event_counters length", s.getGuestEventCountersCount(), n);
    GuestMmuPort port = setup.newPort();
    port.restore(s.getGuest());
    GuestKernel kernel = setup.newKernel(port, events, flushSink);
    kernel.restore(s.getKernel());
    long[] counts = new long[n];
    for (int i = 0; i < n; i++) {
      counts[i] = s.getGuestEventCounters(i);
    }
    return new Restored(port, kernel, counts);
  }
}
