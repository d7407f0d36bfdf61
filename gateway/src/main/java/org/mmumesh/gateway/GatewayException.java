package org.mmumesh.gateway;

import java.util.Objects;
import org.mmumesh.mesh.SimulationException;

/**
 * A caller-visible failure of a gateway call, with the kind that decides its gRPC status in {@link
 * StatusMapper}. The message is what the caller reads: for a bad field it names the field and the
 * allowed range. Thrown before anything changes, so a refused request changes nothing. Its kinds
 * are the simulation's ({@link SimulationException.Kind}): one set, one mapping.
 */
public final class GatewayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final SimulationException.Kind kind;

  private GatewayException(SimulationException.Kind kind, String message) {
    super(Objects.requireNonNull(message, "message"), null, false, false);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** The kind. */
  public SimulationException.Kind kind() {
    return kind;
  }

  /** A field out of its allowed range or set: "{@code field}: {@code problem}". */
  public static GatewayException badField(String field, String problem) {
    return new GatewayException(SimulationException.Kind.BAD_FIELD, field + ": " + problem);
  }

  /** An unknown entity: "{@code what} not found". */
  public static GatewayException notFound(String what) {
    return new GatewayException(SimulationException.Kind.NOT_FOUND, what + " not found");
  }

  /** The id is taken. */
  public static GatewayException alreadyExists(String what) {
    return new GatewayException(SimulationException.Kind.ALREADY_EXISTS, what + " already exists");
  }

  /** The call does not fit the current state; {@code message} says which state and what to do. */
  public static GatewayException wrongState(String message) {
    return new GatewayException(SimulationException.Kind.WRONG_STATE, message);
  }

  /** A limit was reached; {@code message} names the limit and its value. */
  public static GatewayException limit(String message) {
    return new GatewayException(SimulationException.Kind.LIMIT, message);
  }

  /** The simulation did not answer within the configured timeout. */
  public static GatewayException timeout(String message) {
    return new GatewayException(SimulationException.Kind.TIMEOUT, message);
  }

  /** The simulation cannot do this (yet); {@code message} says what is missing. */
  public static GatewayException notImplemented(String message) {
    return new GatewayException(SimulationException.Kind.NOT_IMPLEMENTED, message);
  }

  /** The simulation is not available (shutting down, member unreachable). */
  public static GatewayException unavailable(String message) {
    return new GatewayException(SimulationException.Kind.UNAVAILABLE, message);
  }
}
