package org.mmumesh.engine;

import java.util.Objects;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MmuOptions;

/**
 * How one sequential run is set up.
 *
 * @param options the policy and quirk flags (one per run)
 * @param host32 simulate a 32-bit host (only with 32-bit guests; quirk Q5 applies there)
 * @param costs simulated event costs
 * @param tlbEntries per-vCPU TLB entries (a power of two)
 * @param quantum accesses a vCPU runs before the next vCPU's turn
 * @param maxFaultsPerAccess faults one access may take before it is reported failed (a livelock
 *     bound, spec section 10)
 * @param ksmPagesToScan KSM {@code pages_to_scan}
 * @param ksmSleepMillisecs KSM {@code sleep_millisecs}, in simulated time
 * @param ksmWarmupPasses full KSM passes run before the vCPUs start (boot-time merging)
 * @param sampleIntervalNanos simulated time between samples of the KSM time series
 * @param guestPp the PP bits the guest kernel gives demand-mapped pages (2 = read/write)
 * @param protection what the guest kernel does with a protection fault
 * @param checkInvariants verify the architecture's invariants after every event (slow)
 */
public record EngineConfig(
    MmuOptions options,
    boolean host32,
    SimCosts costs,
    int tlbEntries,
    int quantum,
    int maxFaultsPerAccess,
    int ksmPagesToScan,
    long ksmSleepMillisecs,
    int ksmWarmupPasses,
    long sampleIntervalNanos,
    int guestPp,
    ProtectionPolicy protection,
    boolean checkInvariants) {

  public EngineConfig {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(costs, "costs");
    Objects.requireNonNull(protection, "protection");
    Checks.inRange("quantum", quantum, 1, 1_000_000);
    Checks.inRange("maxFaultsPerAccess", maxFaultsPerAccess, 1, 1000);
    Checks.inRange("ksmPagesToScan", ksmPagesToScan, 1, 1 << 24);
    Checks.inRange("ksmSleepMillisecs", ksmSleepMillisecs, 1, 60_000);
    Checks.inRange("ksmWarmupPasses", ksmWarmupPasses, 0, 100);
    Checks.inRange("sampleIntervalNanos", sampleIntervalNanos, 1_000, 1_000_000_000_000L);
    Checks.inRange("guestPp", guestPp, 0, 3);
  }

  /** Defaults for {@code options}: 64-bit host, 64-entry TLB, KSM at 100 pages per 20 ms. */
  public static EngineConfig defaults(MmuOptions options) {
    return new EngineConfig(
        options,
        false,
        SimCosts.defaults(),
        64,
        64,
        16,
        100,
        20,
        2,
        10_000_000L,
        2,
        ProtectionPolicy.UPGRADE,
        false);
  }

  public EngineConfig withInvariants(boolean on) {
    return new EngineConfig(
        options,
        host32,
        costs,
        tlbEntries,
        quantum,
        maxFaultsPerAccess,
        ksmPagesToScan,
        ksmSleepMillisecs,
        ksmWarmupPasses,
        sampleIntervalNanos,
        guestPp,
        protection,
        on);
  }

  public EngineConfig withKsm(int pagesToScan, long sleepMillisecs, int warmupPasses) {
    return new EngineConfig(
        options,
        host32,
        costs,
        tlbEntries,
        quantum,
        maxFaultsPerAccess,
        pagesToScan,
        sleepMillisecs,
        warmupPasses,
        sampleIntervalNanos,
        guestPp,
        protection,
        checkInvariants);
  }

  public EngineConfig withHost32(boolean on) {
    return new EngineConfig(
        options,
        on,
        costs,
        tlbEntries,
        quantum,
        maxFaultsPerAccess,
        ksmPagesToScan,
        ksmSleepMillisecs,
        ksmWarmupPasses,
        sampleIntervalNanos,
        guestPp,
        protection,
        checkInvariants);
  }

  public EngineConfig withGuest(int pp, ProtectionPolicy onProtection) {
    return new EngineConfig(
        options,
        host32,
        costs,
        tlbEntries,
        quantum,
        maxFaultsPerAccess,
        ksmPagesToScan,
        ksmSleepMillisecs,
        ksmWarmupPasses,
        sampleIntervalNanos,
        pp,
        onProtection,
        checkInvariants);
  }

  public EngineConfig withCosts(SimCosts newCosts) {
    return new EngineConfig(
        options,
        host32,
        newCosts,
        tlbEntries,
        quantum,
        maxFaultsPerAccess,
        ksmPagesToScan,
        ksmSleepMillisecs,
        ksmWarmupPasses,
        sampleIntervalNanos,
        guestPp,
        protection,
        checkInvariants);
  }

  public EngineConfig withSampleInterval(long nanos) {
    return new EngineConfig(
        options,
        host32,
        costs,
        tlbEntries,
        quantum,
        maxFaultsPerAccess,
        ksmPagesToScan,
        ksmSleepMillisecs,
        ksmWarmupPasses,
        nanos,
        guestPp,
        protection,
        checkInvariants);
  }
}
