package org.mmumesh.shell;

import java.time.Duration;
import java.util.Objects;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Deadlines counted in ticks of one periodic timer that runs only while something waits (leases,
 * held requests), instead of one timer per waiting item: a cancelled timer task stays in the
 * scheduler's wheel until its deadline, and one per request made the garbage collector a fifth of
 * the mesh's fault time.
 *
 * <p>A deadline is a tick number. Taken while the tick is stopped (the tick starts now, its phase
 * is known) it falls at the first tick at or after {@code timeout}; taken while the tick runs
 * (phase unknown) one tick later. So an item expires after at least {@code timeout} and at most
 * {@code timeout + period}. Items taken in order have non-decreasing deadlines: a shell keeping
 * them in order expires a prefix on each tick. The shell calls {@link #tick()} on each tick message
 * and {@link #stop()} at the first tick that finds nothing waiting.
 *
 * @param <C> the actor's command type
 */
public final class DeadlineTicks<C> {
  private final TimerScheduler<C> timers;
  private final Object key;
  private final C tickMessage;
  private final Duration period;
  private final long ticksPerTimeout;
  private long ticks;
  private boolean running;

  /**
   * @param timers the actor's timers
   * @param key the timer key (unique among the actor's timers)
   * @param tickMessage the message the timer sends (a private record of the actor)
   * @param period the tick period, positive, at most {@code timeout}
   * @param timeout how long an item waits at least before its deadline tick
   */
  public DeadlineTicks(
      TimerScheduler<C> timers, Object key, C tickMessage, Duration period, Duration timeout) {
    this.timers = Objects.requireNonNull(timers, "timers");
    this.key = Objects.requireNonNull(key, "key");
    this.tickMessage = Objects.requireNonNull(tickMessage, "tickMessage");
    this.period = Objects.requireNonNull(period, "period");
    Objects.requireNonNull(timeout, "timeout");
    this.ticksPerTimeout = ticksPerTimeout(period, timeout);
  }

  /**
   * The number of ticks of {@code period} covering {@code timeout}, rounded up.
   *
   * @throws IllegalArgumentException naming the field unless {@code 0 < period <= timeout}
   */
  public static long ticksPerTimeout(Duration period, Duration timeout) {
    if (period.isNegative() || period.isZero() || period.compareTo(timeout) > 0) {
      throw new IllegalArgumentException(
          "period: "
              + period
              + " is out of range; allowed > 0 and at most timeout ("
              + timeout
              + ")");
    }
    long p = period.toNanos();
    return (timeout.toNanos() + p - 1) / p;
  }

  /**
   * The deadline (a tick number) of an item that starts waiting now; starts the tick if stopped.
   */
  public long deadline() {
    if (!running) {
      running = true;
      timers.startTimerAtFixedRate(key, tickMessage, period);
      return ticks + ticksPerTimeout;
    }
    return ticks + ticksPerTimeout + 1;
  }

  /** Counts a tick message; returns the current tick: items whose deadline is at most it expire. */
  public long tick() {
    return ++ticks;
  }

  /** Whether {@code deadline} has passed at the current tick. */
  public boolean expired(long deadline) {
    return deadline <= ticks;
  }

  /** Stops the tick (nothing waits); the next {@link #deadline()} starts it again. */
  public void stop() {
    if (running) {
      timers.cancel(key);
      running = false;
    }
  }

  /** Whether the tick runs. */
  public boolean running() {
    return running;
  }

  /** Ticks counted so far. */
  public long ticks() {
    return ticks;
  }
}
