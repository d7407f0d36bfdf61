package org.mmumesh.vcpu;

import java.time.Duration;
import java.util.Objects;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MmuOptions;

/**
 * How one {@link Vcpu} is built. Validated at construction: every bad field is an {@link
 * IllegalArgumentException} naming the field and its allowed range.
 *
 * @param vm the VM index (0 to {@code Integer.MAX_VALUE})
 * @param vcpu the vCPU index within the VM (0 to 4095, as {@code PageFrame.MAX_VCPU})
 * @param options the policy and quirks (the {@link PageFaultHandler}'s decisions)
 * @param tlbEntries TLB entries: a power of two from 1 to 65536 ({@link Tlb})
 * @param maxFaultsPerAccess faults one access may take before it is reported failed ("livelock",
 *     spec section 10), 1 to 1024
 * @param requestTimeout how long one request to another actor waits for its reply before it is sent
 *     again with the same request id
 * @param maxAttempts how often one request is sent in all (1 = never retried), 1 to 100
 * @param maxOutstandingBatches batches accepted and not yet done (the running one included) before
 *     {@code RunBatch} is rejected, 1 to 65536
 * @param storeBufferCapacity stores buffered before they are sent to the page frames, 1 to 65536
 */
public record VcpuSetup(
    int vm,
    int vcpu,
    MmuOptions options,
    int tlbEntries,
    int maxFaultsPerAccess,
    Duration requestTimeout,
    int maxAttempts,
    int maxOutstandingBatches,
    int storeBufferCapacity)
    implements CborSerializable {

  /** The largest vCPU index (the page frames' per-vCPU retry memory allows 0 to 4095). */
  public static final int MAX_VCPU = 4095;

  /** Validates every field. */
  public VcpuSetup {
    Checks.inRange("vm", vm, 0, Integer.MAX_VALUE);
    Checks.inRange("vcpu", vcpu, 0, MAX_VCPU);
    Objects.requireNonNull(options, "options");
    if (tlbEntries < 1 || tlbEntries > (1 << 16) || Integer.bitCount(tlbEntries) != 1) {
      throw new IllegalArgumentException(
          "tlbEntries: " + tlbEntries + " is not allowed; allowed: a power of two from 1 to 65536");
    }
    Checks.inRange("maxFaultsPerAccess", maxFaultsPerAccess, 1, 1024);
    if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException(
          "requestTimeout: " + requestTimeout + " is out of range; allowed: a positive duration");
    }
    Checks.inRange("maxAttempts", maxAttempts, 1, 100);
    Checks.inRange("maxOutstandingBatches", maxOutstandingBatches, 1, 1 << 16);
    Checks.inRange("storeBufferCapacity", storeBufferCapacity, 1, 1 << 16);
  }

  /**
   * Defaults for vCPU {@code vcpu} of VM {@code vm}: 1024 TLB entries, 16 faults per access, 2 s
   * request timeout, 3 attempts, 4 outstanding batches, 1024 buffered stores.
   */
  public static VcpuSetup defaults(int vm, int vcpu, MmuOptions options) {
    return new VcpuSetup(vm, vcpu, options, 1024, 16, Duration.ofSeconds(2), 3, 4, 1024);
  }
}
