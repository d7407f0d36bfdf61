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
 * @param tickInterval the period of the vCPU's one timeout tick, positive, at most {@code
 *     requestTimeout} (default {@link #defaultTick a tenth of requestTimeout}); a request times out
 *     between {@code requestTimeout} and {@code requestTimeout + tickInterval} after it was sent
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
    int storeBufferCapacity,
    Duration tickInterval)
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
    if (tickInterval == null
        || tickInterval.isNegative()
        || tickInterval.isZero()
        || tickInterval.compareTo(requestTimeout) > 0) {
      throw new IllegalArgumentException(
          "tickInterval: "
              + tickInterval
              + " is out of range; allowed > 0 and at most requestTimeout ("
              + requestTimeout
              + ")");
    }
  }

  /** A setup with the {@link #defaultTick default tick} for {@code requestTimeout}. */
  public VcpuSetup(
      int vm,
      int vcpu,
      MmuOptions options,
      int tlbEntries,
      int maxFaultsPerAccess,
      Duration requestTimeout,
      int maxAttempts,
      int maxOutstandingBatches,
      int storeBufferCapacity) {
    this(
        vm,
        vcpu,
        options,
        tlbEntries,
        maxFaultsPerAccess,
        requestTimeout,
        maxAttempts,
        maxOutstandingBatches,
        storeBufferCapacity,
        defaultTick(requestTimeout));
  }

  /**
   * A tenth of {@code requestTimeout}, at least 1 ms and at most {@code requestTimeout} ({@code
   * null} or a non-positive timeout is returned as is, for the constructor to reject).
   */
  public static Duration defaultTick(Duration requestTimeout) {
    if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
      return requestTimeout;
    }
    Duration t = requestTimeout.dividedBy(10);
    if (t.compareTo(Duration.ofMillis(1)) < 0) {
      t = Duration.ofMillis(1);
    }
    return t.compareTo(requestTimeout) > 0 ? requestTimeout : t;
  }

  /**
   * Defaults for vCPU {@code vcpu} of VM {@code vm}: 1024 TLB entries, 16 faults per access, 2 s
   * request timeout (a 200 ms tick), 3 attempts, 4 outstanding batches, 1024 buffered stores.
   */
  public static VcpuSetup defaults(int vm, int vcpu, MmuOptions options) {
    return new VcpuSetup(vm, vcpu, options, 1024, 16, Duration.ofSeconds(2), 3, 4, 1024);
  }
}
