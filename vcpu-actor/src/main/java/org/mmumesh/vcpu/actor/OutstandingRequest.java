package org.mmumesh.vcpu.actor;

import java.time.Duration;
import java.util.function.LongFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.VcpuProtocol.Command;

/**
 * A {@link Vcpu}'s one outstanding request and its timeout tick: a vCPU is sequential, so at most
 * one request to a peer is unanswered at a time. It gets a fresh id ({@code idBase | n}, below
 * {@link StoreFlushes#FLUSH_IDS}), a kind telling what its reply means, and a deadline in ticks of
 * one periodic timer that runs while a request or a store flush is outstanding; past its deadline
 * it is sent again with the same id. Plain state the actor owns: every method runs on the actor's
 * thread.
 *
 * <p>One request is outstanding at a time (a vCPU is sequential). A request not answered within
 * {@link VcpuSetup#requestTimeout()} is sent again with the <em>same</em> request id (the other
 * actors answer a repeated id from memory, without applying it twice), at most {@link
 * VcpuSetup#maxAttempts()} times in all; then the access is reported failed ("timeout"). A reply
 * that arrives late is recognised by its request id and ignored, except that a late {@link
 * PageFrame.PfnAnswered} has its lease released at once.
 *
 * <p><b>One tick, no timer per request.</b> Timeouts are deadlines in plain fields (the request's,
 * the store flush's), counted in ticks of one periodic timer ({@link VcpuSetup#tickInterval()},
 * default a tenth of the timeout) that runs while a request or a store flush is outstanding and
 * stops at the first tick that finds neither. (A single timer per request, cancelled by its reply,
 * stays in the scheduler's wheel until its deadline: in the mesh benchmark that was hundreds of
 * thousands of live tasks, a fifth of the fault time in GC and an eighth in starting and cancelling
 * timers.) A request sent when the tick starts, or from the tick itself (a retry), times out at the
 * first tick at or after {@code requestTimeout}; one sent while the tick runs with a phase the
 * actor cannot know one tick later: never before {@code requestTimeout}, at most {@code
 * requestTimeout + tickInterval} after it was sent.
 */
final class OutstandingRequest {

  /** What the one outstanding request is. */
  enum Kind {
    MODE,
    VSID,
    LOOKUP,
    FLUSH,
    XLATE,
    PFN,
    UNMAP,
    MAP,
    EXCEPTION,
    RC,
    SET_STATE,
    STATE_FLUSH,
    TRACE_RC,
    TRACE_WORD
  }

  private static final Object TICK_TIMER = "tick";

  private final TimerScheduler<Command> timers;
  private final Command tick;
  private final Duration tickInterval;
  private final long ticksPerTimeout;
  private final int maxAttempts;
  private final long idBase;

  private long nextRequestId;
  private long pendingId = VcpuWork.NONE;
  private Kind pendingKind;
  private Object pendingMsg;
  private ActorRef<?> pendingTarget;
  private int attempts;
  private long pendingDeadline;

  private long ticks;
  private boolean ticking;
  private boolean inTick;

  /**
   * @param tick the message of the periodic timer (the actor answers it with {@link #tickStarted})
   * @param timeout a request's timeout, rounded up to whole ticks
   */
  OutstandingRequest(
      TimerScheduler<Command> timers,
      Command tick,
      Duration tickInterval,
      Duration timeout,
      int maxAttempts,
      long idBase) {
    this.timers = timers;
    this.tick = tick;
    this.tickInterval = tickInterval;
    long tickNanos = tickInterval.toNanos();
    this.ticksPerTimeout = (timeout.toNanos() + tickNanos - 1) / tickNanos;
    this.maxAttempts = maxAttempts;
    this.idBase = idBase;
    this.nextRequestId = idBase + 1;
  }

  /** Sends {@code message} (built with a fresh request id) to {@code target} as the request. */
  @SuppressWarnings("unchecked")
  void send(Kind kind, ActorRef<?> target, LongFunction<Object> message) {
    if ((nextRequestId & StoreFlushes.FLUSH_IDS) != 0) {
      nextRequestId = idBase + 1; // stays below the store flushes' ids (FLUSH_IDS)
    }
    long id = nextRequestId++;
    pendingId = id;
    pendingKind = kind;
    pendingTarget = target;
    pendingMsg = message.apply(id);
    attempts = 1;
    ((ActorRef<Object>) target).tell(pendingMsg);
    pendingDeadline = deadline();
  }

  /** No request is outstanding any more (answered, given up or abandoned). */
  void clear() {
    pendingId = VcpuWork.NONE;
    pendingKind = null;
    pendingMsg = null;
    pendingTarget = null;
  }

  /**
   * Whether a reply with request id {@code id} answers the outstanding request, of kind {@code
   * kind}; if so, none is outstanding any more. False for a late or duplicate reply.
   */
  boolean answeredBy(Kind kind, long id) {
    if (pendingKind != kind || pendingId != id) {
      return false;
    }
    clear();
    return true;
  }

  /** The kind of the outstanding request, or null when none is. */
  Kind kind() {
    return pendingKind;
  }

  /** The id of the outstanding request ({@link VcpuWork#NONE} when none is). */
  long id() {
    return pendingId;
  }

  /**
   * The tick at which something sent now times out, starting the tick if it is stopped: exact when
   * the tick starts now or this is the tick itself, one tick later when the tick runs with a phase
   * unknown here (see the class comment of {@link Vcpu}).
   */
  long deadline() {
    if (!ticking) {
      ticking = true;
      timers.startTimerAtFixedRate(TICK_TIMER, tick, tickInterval);
      return ticks + ticksPerTimeout;
    }
    return ticks + ticksPerTimeout + (inTick ? 0 : 1);
  }

  /** A tick begins: true when the outstanding request is past its deadline. */
  boolean tickStarted() {
    ticks++;
    inTick = true;
    return pendingKind != null && ticks >= pendingDeadline;
  }

  /** The current tick count. */
  long ticks() {
    return ticks;
  }

  /** The tick is over (requests sent from now on get one tick more, see {@link #deadline}). */
  void tickEnded() {
    inTick = false;
  }

  /** Stops the tick when neither a request nor a store flush ({@code flushing}) is outstanding. */
  void stopTickUnless(boolean flushing) {
    if (pendingKind == null && !flushing && ticking) {
      timers.cancel(TICK_TIMER);
      ticking = false;
    }
  }

  /** Sends the request again with the same id if attempts remain; false when they are used up. */
  @SuppressWarnings("unchecked")
  boolean retry() {
    if (attempts >= maxAttempts) {
      return false;
    }
    attempts++;
    ((ActorRef<Object>) pendingTarget).tell(pendingMsg);
    pendingDeadline = deadline();
    return true;
  }

  /** Why the request failed after its last attempt ({@code timeout}: one attempt's timeout). */
  String timeoutReason(Duration timeout) {
    return "timeout: "
        + pendingMsg.getClass().getSimpleName()
        + " request "
        + pendingId
        + " unanswered after "
        + attempts
        + " attempts of "
        + timeout.toMillis()
        + " ms";
  }
}
