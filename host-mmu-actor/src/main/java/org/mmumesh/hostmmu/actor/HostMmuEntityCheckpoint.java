package org.mmumesh.hostmmu.actor;

import com.google.protobuf.InvalidProtocolBufferException;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.HostMmuEntityState;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.MmuNotifierGuard;
import org.mmumesh.hostmmu.ShellCounter;

/**
 * The state of one {@link HostMmu} entity as a {@code HostMmuEntityState} (issue 13, style rule
 * 26): the core ({@link HostMmuCore#checkpoint()}), the TLB epoch, the notifier guard, the shell's
 * counters and the pending Q8 flush requests. Pure: the shell decides when (at a barrier) and swaps
 * in what {@link #read} built.
 *
 * <p>Not written: the TLB subscribers (actor references; the restored vCPUs subscribe again), the
 * shootdown round and the stash (empty at a barrier, checked before), the per-vCPU retry cache
 * (every request is answered at a barrier; a restore forgets it).
 */
final class HostMmuEntityCheckpoint {
  private HostMmuEntityCheckpoint() {}

  /** What a restore puts into the shell. */
  record Restored(
      HostMmuCore core,
      long epoch,
      MmuNotifierGuard guard,
      long[] shellCounters,
      boolean[] flushRequested) {}

  /** The entity's state as bytes. Pure: changes nothing. */
  static byte[] write(
      HostMmuCore core,
      long epoch,
      MmuNotifierGuard guard,
      long[] shellCounters,
      boolean[] flushRequested) {
    HostMmuEntityState.Builder b =
        HostMmuEntityState.newBuilder()
            .setCore(core.checkpoint())
            .setEpoch(epoch)
            .setGuard(guard.checkpoint());
    for (long c : shellCounters) {
      b.addShellCounters(c);
    }
    for (boolean f : flushRequested) {
      b.addFlushRequested(f);
    }
    return b.build().toByteArray();
  }

  /**
   * A fresh core, guard and counters holding {@code bytes}; the caller's objects are untouched.
   *
   * @throws IllegalArgumentException ({@link CheckpointMismatchException} when the state does not
   *     fit {@code config}) naming the field and both values or the allowed range
   */
  static Restored read(byte[] bytes, HostMmuConfig config, long minEpoch) {
    if (bytes == null) {
      throw new IllegalArgumentException("state: null; allowed: a HostMmuEntityState");
    }
    HostMmuEntityState s;
    try {
      s = HostMmuEntityState.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "state: not a HostMmuEntityState (" + e.getMessage() + ")");
    }
    if (!s.hasCore()) {
      throw new CheckpointMismatchException("core: missing; allowed: a HostMmuState");
    }
    CheckpointMismatchException.checkRange("epoch", s.getEpoch(), minEpoch, Long.MAX_VALUE);
    int n = ShellCounter.values().length;
    CheckpointMismatchException.requireEqual("shell_counters length", s.getShellCountersCount(), n);
    CheckpointMismatchException.requireEqual(
        "flush_requested length", s.getFlushRequestedCount(), config.vcpus());
    MmuNotifierGuard guard = MmuNotifierGuard.restore(s.getGuard());
    HostMmuCore core = HostMmuCore.restore(s.getCore(), config);
    long[] counters = new long[n];
    for (int i = 0; i < n; i++) {
      counters[i] = s.getShellCounters(i);
    }
    boolean[] flush = new boolean[config.vcpus()];
    for (int i = 0; i < flush.length; i++) {
      flush[i] = s.getFlushRequested(i);
    }
    return new Restored(core, s.getEpoch(), guard, counters, flush);
  }
}
