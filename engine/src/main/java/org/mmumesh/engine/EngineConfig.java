package org.mmumesh.engine;

import java.util.Objects;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.guestmmu.ProtectionPolicy;

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
 * @param sidToggle whose SID-map toggle the VMs' host MMUs use (see {@link SidToggleScope})
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
    boolean checkInvariants,
    SidToggleScope sidToggle) {

  /**
   * Who shares the SID-map toggle ({@code SidMapToggle}, spec 5.2: the static {@code backwards_map}
   * of {@code create_sid_map}, one variable for every vCPU of every VM on a host). It decides which
   * of a SID hash slot's two positions ({@code h} or {@code 511-h}) a new SID map takes, so it
   * shapes which SID maps later overwrite each other.
   */
  public enum SidToggleScope {
    /**
     * One toggle for the whole simulated host, shared by every VM, as in the kernel (the default,
     * and the faithful model).
     */
    HOST,
    /**
     * One toggle per VM. The actor mesh has one {@code HostMmu} actor per VM, each with its own
     * core and therefore its own toggle (sharing one across actors, possibly on different nodes,
     * would need a host-level actor and would make the toggle depend on message interleaving). With
     * this scope the sequential engine makes the same choice, so the two engines can be compared
     * entry for entry (issue 4's differential test). It is not the kernel's behaviour.
     */
    PER_VM
  }

  public EngineConfig {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(sidToggle, "sidToggle");
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
        false,
        SidToggleScope.HOST);
  }

  public EngineConfig withInvariants(boolean on) {
    return toBuilder().checkInvariants(on).build();
  }

  public EngineConfig withKsm(int pagesToScan, long sleepMillisecs, int warmupPasses) {
    return toBuilder()
        .ksmPagesToScan(pagesToScan)
        .ksmSleepMillisecs(sleepMillisecs)
        .ksmWarmupPasses(warmupPasses)
        .build();
  }

  public EngineConfig withHost32(boolean on) {
    return toBuilder().host32(on).build();
  }

  public EngineConfig withGuest(int pp, ProtectionPolicy onProtection) {
    return toBuilder().guestPp(pp).protection(onProtection).build();
  }

  public EngineConfig withCosts(SimCosts newCosts) {
    return toBuilder().costs(newCosts).build();
  }

  public EngineConfig withSampleInterval(long nanos) {
    return toBuilder().sampleIntervalNanos(nanos).build();
  }

  /** This configuration with the SID-map toggle shared as {@code scope} says. */
  public EngineConfig withSidToggle(SidToggleScope scope) {
    return toBuilder().sidToggle(scope).build();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes some fields of an {@link EngineConfig}; {@link #build()} validates them. */
  public static final class Builder {
    private MmuOptions options;
    private boolean host32;
    private SimCosts costs;
    private int tlbEntries;
    private int quantum;
    private int maxFaultsPerAccess;
    private int ksmPagesToScan;
    private long ksmSleepMillisecs;
    private int ksmWarmupPasses;
    private long sampleIntervalNanos;
    private int guestPp;
    private ProtectionPolicy protection;
    private boolean checkInvariants;
    private SidToggleScope sidToggle;

    private Builder(EngineConfig c) {
      options = c.options;
      host32 = c.host32;
      costs = c.costs;
      tlbEntries = c.tlbEntries;
      quantum = c.quantum;
      maxFaultsPerAccess = c.maxFaultsPerAccess;
      ksmPagesToScan = c.ksmPagesToScan;
      ksmSleepMillisecs = c.ksmSleepMillisecs;
      ksmWarmupPasses = c.ksmWarmupPasses;
      sampleIntervalNanos = c.sampleIntervalNanos;
      guestPp = c.guestPp;
      protection = c.protection;
      checkInvariants = c.checkInvariants;
      sidToggle = c.sidToggle;
    }

    public Builder options(MmuOptions v) {
      options = v;
      return this;
    }

    public Builder host32(boolean v) {
      host32 = v;
      return this;
    }

    public Builder costs(SimCosts v) {
      costs = v;
      return this;
    }

    public Builder tlbEntries(int v) {
      tlbEntries = v;
      return this;
    }

    public Builder quantum(int v) {
      quantum = v;
      return this;
    }

    public Builder maxFaultsPerAccess(int v) {
      maxFaultsPerAccess = v;
      return this;
    }

    public Builder ksmPagesToScan(int v) {
      ksmPagesToScan = v;
      return this;
    }

    public Builder ksmSleepMillisecs(long v) {
      ksmSleepMillisecs = v;
      return this;
    }

    public Builder ksmWarmupPasses(int v) {
      ksmWarmupPasses = v;
      return this;
    }

    public Builder sampleIntervalNanos(long v) {
      sampleIntervalNanos = v;
      return this;
    }

    public Builder guestPp(int v) {
      guestPp = v;
      return this;
    }

    public Builder protection(ProtectionPolicy v) {
      protection = v;
      return this;
    }

    public Builder checkInvariants(boolean v) {
      checkInvariants = v;
      return this;
    }

    public Builder sidToggle(SidToggleScope v) {
      sidToggle = v;
      return this;
    }

    public EngineConfig build() {
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
          checkInvariants,
          sidToggle);
    }
  }
}
