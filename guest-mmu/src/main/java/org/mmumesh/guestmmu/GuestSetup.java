package org.mmumesh.guestmmu;

import java.util.Objects;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MmuOptions;

/**
 * Everything needed to build one VM's guest MMU and guest kernel model, as the sequential engine's
 * {@code createVm} builds them: the MMU kind, the SDR1 every vCPU starts with (spec 2.2, 3.2; a
 * guest may later set another per vCPU, {@link VcpuStateChange.SetSdr1}) naming an HTAB inside
 * guest-real memory of {@code memoryBytes}, the policy and quirks, the vCPU count, and the guest
 * kernel model's linear-map window, PP bits and protection policy. It is a message-safe value (it
 * may be sent to another node to create the VM's {@code GuestMmu} there).
 *
 * <p>The record checks the simple fields; SDR1 is checked when the HTAB is built ({@link
 * #newPort()}), with a message naming the SDR1 field.
 *
 * @param mmu the guest MMU kind
 * @param sdr1 the SDR1 value locating the HTAB every vCPU starts with
 * @param memoryBytes guest-real memory in bytes; the HTAB must lie inside it
 * @param options the policy and quirks
 * @param vcpus the number of vCPUs, 1 to {@link #MAX_VCPUS}
 * @param windowBase the first effective address of the guest kernel's linear map (gfn 0)
 * @param windowPages pages in the linear map
 * @param guestPp the PP bits of demand-mapped pages, 0 to 3
 * @param protection what the guest kernel does with protection faults
 */
public record GuestSetup(
    GuestMmuKind mmu,
    long sdr1,
    long memoryBytes,
    MmuOptions options,
    int vcpus,
    long windowBase,
    long windowPages,
    int guestPp,
    ProtectionPolicy protection)
    implements CborSerializable {

  /** The most vCPUs one VM may have. */
  public static final int MAX_VCPUS = 1024;

  public GuestSetup {
    Objects.requireNonNull(mmu, "mmu");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(protection, "protection");
    Checks.inRange("vcpus", vcpus, 1, MAX_VCPUS);
    Checks.inRange("memoryBytes", memoryBytes, 0, Long.MAX_VALUE);
    Checks.inRange("windowPages", windowPages, 0, Long.MAX_VALUE);
    Checks.inRange("guestPp", guestPp, 0, 3);
  }

  /**
   * Builds the VM's guest MMU: a {@link Guest32} or {@link Guest64} over a fresh HTAB.
   *
   * @throws IllegalArgumentException when SDR1 does not describe an HTAB inside guest memory
   */
  public GuestMmuPort newPort() {
    return mmu == GuestMmuKind.BOOK3S_32
        ? new Guest32(GuestHtab.forSdr1Book3s32(sdr1, memoryBytes), options, vcpus)
        : new Guest64(GuestHtab.forSdr1Book3s64(sdr1, memoryBytes), options, vcpus);
  }

  /** Builds the guest kernel model over {@code port} with this setup's window, PP and policy. */
  public GuestKernel newKernel(
      GuestMmuPort port, GuestKernel.Events events, GuestKernel.HostFlushSink flushSink) {
    return new GuestKernel(port, windowBase, windowPages, guestPp, protection, events, flushSink);
  }
}
