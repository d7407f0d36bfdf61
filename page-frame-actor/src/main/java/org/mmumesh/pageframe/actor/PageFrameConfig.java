package org.mmumesh.pageframe.actor;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Objects;
import org.mmumesh.common.Checks;

/**
 * The {@link PageFrame}'s configuration, {@code PageFrame.Settings} (section {@value
 * PageFrame#CONFIG_PATH}).
 */
public interface PageFrameConfig {
  /**
   * @param leaseTimeout a lease not released by then is released by the actor (default 10 s)
   * @param notifierAckTimeout how long a reply waits for notifier acks (default 2 s)
   * @param stashCapacity commands held while a notifier round is in flight (default 4096)
   * @param rememberedRequests management/KSM replies remembered for retries (default 1024)
   * @param initialFrames the core's initial frame capacity (default 1024; it grows)
   * @param leaseTick the period of the one lease-expiry tick, positive, at most {@code
   *     leaseTimeout} (default {@link #defaultLeaseTick a tenth of leaseTimeout}); a lease expires
   *     between {@code leaseTimeout} and {@code leaseTimeout + leaseTick} after its grant
   */
  public record Settings(
      Duration leaseTimeout,
      Duration notifierAckTimeout,
      int stashCapacity,
      int rememberedRequests,
      int initialFrames,
      Duration leaseTick) {
    /** Validates every field; messages name the field and the allowed range. */
    public Settings {
      positive("leaseTimeout", leaseTimeout);
      positive("notifierAckTimeout", notifierAckTimeout);
      Checks.inRange("stashCapacity", stashCapacity, 1, 1 << 20);
      Checks.inRange("rememberedRequests", rememberedRequests, 1, 1 << 20);
      Checks.inRange("initialFrames", initialFrames, 1, Integer.MAX_VALUE - 1);
      Objects.requireNonNull(leaseTick, "leaseTick");
      if (leaseTick.isNegative() || leaseTick.isZero() || leaseTick.compareTo(leaseTimeout) > 0) {
        throw new IllegalArgumentException(
            "leaseTick: "
                + leaseTick
                + " is out of range; allowed > 0 and at most leaseTimeout ("
                + leaseTimeout
                + ")");
      }
    }

    /** Settings with the {@link #defaultLeaseTick default lease tick}. */
    public Settings(
        Duration leaseTimeout,
        Duration notifierAckTimeout,
        int stashCapacity,
        int rememberedRequests,
        int initialFrames) {
      this(
          leaseTimeout,
          notifierAckTimeout,
          stashCapacity,
          rememberedRequests,
          initialFrames,
          defaultLeaseTick(leaseTimeout));
    }

    /** A tenth of {@code leaseTimeout}, at least 1 ms and at most {@code leaseTimeout}. */
    public static Duration defaultLeaseTick(Duration leaseTimeout) {
      positive("leaseTimeout", leaseTimeout);
      Duration t = leaseTimeout.dividedBy(10);
      if (t.compareTo(Duration.ofMillis(1)) < 0) {
        t = Duration.ofMillis(1);
      }
      return t.compareTo(leaseTimeout) > 0 ? leaseTimeout : t;
    }

    private static void positive(String field, Duration d) {
      Objects.requireNonNull(d, field);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + ": " + d + " is out of range; allowed > 0");
      }
    }

    /** 10 s, 2 s, 4096, 1024, 1024. */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(10), Duration.ofSeconds(2), 4096, 1024, 1024);
    }

    /**
     * Reads {@value PageFrame#CONFIG_PATH}{@code .lease-timeout}, {@code .notifier-ack-timeout},
     * {@code .stash-capacity}, {@code .remembered-requests}, {@code .initial-frames}, {@code
     * .lease-tick}; each missing key keeps its default (the lease tick: a tenth of the lease
     * timeout).
     */
    public static Settings fromConfig(Config config) {
      Settings d = defaults();
      String p = PageFrame.CONFIG_PATH + ".";
      Duration leaseTimeout =
          config.hasPath(p + "lease-timeout")
              ? config.getDuration(p + "lease-timeout")
              : d.leaseTimeout();
      return new Settings(
          leaseTimeout,
          config.hasPath(p + "notifier-ack-timeout")
              ? config.getDuration(p + "notifier-ack-timeout")
              : d.notifierAckTimeout(),
          config.hasPath(p + "stash-capacity")
              ? config.getInt(p + "stash-capacity")
              : d.stashCapacity(),
          config.hasPath(p + "remembered-requests")
              ? config.getInt(p + "remembered-requests")
              : d.rememberedRequests(),
          config.hasPath(p + "initial-frames")
              ? config.getInt(p + "initial-frames")
              : d.initialFrames(),
          config.hasPath(p + "lease-tick")
              ? config.getDuration(p + "lease-tick")
              : defaultLeaseTick(leaseTimeout));
    }
  }
}
