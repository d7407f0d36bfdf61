package org.mmumesh.gateway;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.mmumesh.mesh.SimulationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's one error mapper (style item 11): every failure of every RPC goes through {@link
 * #toStatus(Throwable)}.
 *
 * <ul>
 *   <li>{@link GatewayException}: by its kind (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
 *       FAILED_PRECONDITION, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, UNAVAILABLE, UNIMPLEMENTED,
 *       ABORTED: a lost VM's call that was running);
 *   <li>{@link SimulationException} (the simulation's caller-visible failures): by its kind, the
 *       same mapping;
 *   <li>{@link IllegalArgumentException}: INVALID_ARGUMENT with its message (the cores' checks name
 *       the field and the allowed range, see {@code org.mmumesh.common.Checks});
 *   <li>{@link TimeoutException} (Pekko's ask timeout is one): DEADLINE_EXCEEDED;
 *   <li>anything else is a bug in the simulation, never the caller's mistake: INTERNAL with an
 *       incident number, logged with its stack trace under that number.
 * </ul>
 *
 * Wrappers ({@link CompletionException}, {@link ExecutionException}) are unwrapped first.
 */
public final class StatusMapper {
  private static final Logger LOG = LoggerFactory.getLogger(StatusMapper.class);
  private static final AtomicLong INCIDENTS = new AtomicLong();

  private StatusMapper() {}

  /** The status of {@code failure}, with a description the caller can act on. */
  public static Status toStatus(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    if (t instanceof GatewayException g) {
      return codeOf(g.kind()).withDescription(g.getMessage());
    }
    if (t instanceof SimulationException s) {
      return codeOf(s.kind()).withDescription(s.getMessage());
    }
    if (t instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(t.getMessage());
    }
    if (t instanceof TimeoutException) {
      return Status.DEADLINE_EXCEEDED.withDescription(
          "the simulation did not answer in time: " + t.getMessage());
    }
    long incident = INCIDENTS.incrementAndGet();
    LOG.error("internal error, incident {}", incident, t);
    return Status.INTERNAL.withDescription(
        "internal error (incident " + incident + ", logged by the server)");
  }

  /** {@link #toStatus(Throwable)} as an exception for {@code StreamObserver.onError}. */
  public static StatusRuntimeException toException(Throwable failure) {
    return toStatus(failure).asRuntimeException();
  }

  /** Internal errors mapped so far (tests check the fuzz run added none). */
  public static long incidents() {
    return INCIDENTS.get();
  }

  static Status codeOf(SimulationException.Kind kind) {
    return switch (kind) {
      case BAD_FIELD -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case WRONG_STATE -> Status.FAILED_PRECONDITION;
      case LIMIT -> Status.RESOURCE_EXHAUSTED;
      case TIMEOUT -> Status.DEADLINE_EXCEEDED;
      case UNAVAILABLE -> Status.UNAVAILABLE;
      case NOT_IMPLEMENTED -> Status.UNIMPLEMENTED;
      case LOST -> Status.ABORTED;
    };
  }

  private static Throwable unwrap(Throwable t) {
    Throwable cur = t;
    while ((cur instanceof CompletionException || cur instanceof ExecutionException)
        && cur.getCause() != null) {
      cur = cur.getCause();
    }
    return cur;
  }
}
