package org.mmumesh.vcpu.actor;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.List;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.VcpuEntityState;
import org.mmumesh.checkpoint.v1.VcpuRunState;
import org.mmumesh.vcpu.CBitWatch;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;

/**
 * The state of one {@link Vcpu} entity as a {@code VcpuEntityState} (issue 13, style rule 26): the
 * core ({@link org.mmumesh.vcpu.VcpuCore#checkpoint}: counters, mode, TLB), the C-bit watch, the
 * host link's known epoch and pending Q8 flush, the segment-VSID cache and the batch numbering.
 * Pure apart from {@link #restore}, which writes into the actor's parts only after every check.
 *
 * <p>Not written, because they are not state at a barrier: the in-flight request, access, store
 * buffer and flushes ({@link VcpuParts#quiet()} is required), the retry caches of the last batch,
 * state change and trace (every request is answered at a barrier; a restore forgets them), the
 * per-incarnation request id base, and the guest CPU registers mirror ({@code parts.cpu}: derived
 * from the mode).
 */
final class VcpuEntityCheckpoint {
  private VcpuEntityCheckpoint() {}

  /** The lifecycle state and the translation mode the restored vCPU takes on. */
  record Restored(VcpuState state, int mode) {}

  /** Why the vCPU is not at a barrier, or null when it is. */
  static String notAtBarrier(VcpuState state, VcpuParts parts) {
    if (state != VcpuState.IDLE && state != VcpuState.HALTED) {
      return "not at a barrier: state " + state + "; allowed IDLE or HALTED";
    }
    if (!parts.quiet() || parts.batches.outstanding() > 0 || parts.batches.running() != null) {
      return "not at a barrier: a batch, access, store flush, state change or trace is in flight";
    }
    return null;
  }

  /** The entity's state as bytes. Pure: changes nothing. Call only at a barrier. */
  static byte[] write(VcpuSetup setup, VcpuState state, VcpuParts parts) {
    long epoch = parts.link.knownEpoch();
    VcpuEntityState.Builder b =
        VcpuEntityState.newBuilder()
            .setVm(setup.vm())
            .setVcpu(setup.vcpu())
            .setRunState(
                state == VcpuState.HALTED
                    ? VcpuRunState.VCPU_RUN_STATE_HALTED
                    : VcpuRunState.VCPU_RUN_STATE_IDLE)
            .setCore(parts.core.checkpoint(epoch))
            .setCBitWatch(parts.cWatch.checkpoint())
            .setKnownEpoch(epoch)
            .setPendingFlush(parts.link.pendingFlush)
            .setLastAcceptedBatchId(parts.batches.lastAcceptedBatchId());
    long[] esids = parts.esidToGvsid.keySet().toLongArray();
    java.util.Arrays.sort(esids);
    for (long e : esids) {
      b.addCachedEsids(e).addCachedGuestVsids(parts.esidToGvsid.get(e));
    }
    return b.build().toByteArray();
  }

  /**
   * Puts {@code bytes} into {@code parts}, all or nothing, and returns the lifecycle state and mode
   * the vCPU is in now; the caller sets its mode and behaviour from them.
   *
   * @throws IllegalArgumentException ({@link CheckpointMismatchException} for a state that does not
   *     fit) naming the field and both values or the allowed range; nothing changed then
   */
  static Restored restore(byte[] bytes, VcpuSetup setup, VcpuParts parts) {
    if (bytes == null) {
      throw new IllegalArgumentException("state: null; allowed: a VcpuEntityState");
    }
    VcpuEntityState s;
    try {
      s = VcpuEntityState.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("state: not a VcpuEntityState (" + e.getMessage() + ")");
    }
    CheckpointMismatchException.requireEqual("vm", s.getVm(), setup.vm());
    CheckpointMismatchException.requireEqual("vcpu", s.getVcpu(), setup.vcpu());
    VcpuState state =
        switch (s.getRunState()) {
          case VCPU_RUN_STATE_IDLE -> VcpuState.IDLE;
          case VCPU_RUN_STATE_HALTED -> VcpuState.HALTED;
          default ->
              throw new CheckpointMismatchException(
                  "run_state: " + s.getRunStateValue() + "; allowed IDLE (1) or HALTED (2)");
        };
    if (!s.hasCore()) {
      throw new CheckpointMismatchException("core: missing; allowed: a VcpuCoreState");
    }
    CheckpointMismatchException.requireEqual(
        "core.tlb.epoch", s.getCore().getTlb().getEpoch(), s.getKnownEpoch());
    int n = s.getCachedEsidsCount();
    if (s.getCachedGuestVsidsCount() != n) {
      throw new CheckpointMismatchException(
          "cached_guest_vsids: "
              + s.getCachedGuestVsidsCount()
              + " entries; allowed exactly as many as cached_esids ("
              + n
              + ")");
    }
    long prev = -1;
    for (int k = 0; k < n; k++) {
      prev =
          CheckpointMismatchException.checkRange(
              "cached_esids[" + k + "]", s.getCachedEsids(k), prev + 1, Long.MAX_VALUE);
    }
    new CBitWatch().restore(s.getCBitWatch()); // checks it on a scratch watch first
    parts.core.restore(s.getCore()); // checks everything before it changes anything
    // Every check passed: nothing below can fail.
    parts.cWatch.restore(s.getCBitWatch());
    parts.link.restore(s.getKnownEpoch(), s.getPendingFlush());
    parts.esidToGvsid.clear();
    for (int k = 0; k < n; k++) {
      parts.esidToGvsid.put(s.getCachedEsids(k), s.getCachedGuestVsids(k));
    }
    parts.batches.restore(s.getLastAcceptedBatchId(), null, null, List.of());
    parts.states.restore(null);
    parts.traces.restore(null);
    return new Restored(state, s.getCore().getMode());
  }
}
