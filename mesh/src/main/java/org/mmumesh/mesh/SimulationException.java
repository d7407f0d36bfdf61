package org.mmumesh.mesh;

import java.util.Objects;

/**
 * A caller-visible failure of a {@link Simulation} call, with the kind that decides the external
 * API's status (the gateway maps it). The message is what the caller reads: for a bad field it
 * names the field and the allowed range.
 */
public final class SimulationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, from the caller's point of view. */
  public enum Kind {
    /** A value does not fit (the VM, the host): INVALID_ARGUMENT. */
    BAD_FIELD,
    /** An unknown host, VM, vCPU, slot or entity: NOT_FOUND. */
    NOT_FOUND,
    /** The id is taken (or was used): ALREADY_EXISTS. */
    ALREADY_EXISTS,
    /** The call does not fit the current state: FAILED_PRECONDITION. */
    WRONG_STATE,
    /** A limit: RESOURCE_EXHAUSTED. */
    LIMIT,
    /** An actor did not answer in time: DEADLINE_EXCEEDED. */
    TIMEOUT,
    /** The simulation is shutting down or unreachable: UNAVAILABLE. */
    UNAVAILABLE,
    /** The simulation cannot do this yet: UNIMPLEMENTED. */
    NOT_IMPLEMENTED,
    /**
     * The VM's or host's state was lost with a node while the call ran (a stream in progress, a
     * call waiting on the lost node): ABORTED. A call made after the loss is WRONG_STATE.
     */
    LOST
  }

  private final Kind kind;

  /** A failure of {@code kind} with the caller-readable {@code message}. */
  public SimulationException(Kind kind, String message) {
    super(Objects.requireNonNull(message, "message"), null, false, false);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** The kind. */
  public Kind kind() {
    return kind;
  }

  static SimulationException notFound(String what) {
    return new SimulationException(Kind.NOT_FOUND, what + " not found");
  }

  static SimulationException alreadyExists(String what) {
    return new SimulationException(Kind.ALREADY_EXISTS, what);
  }

  static SimulationException badField(String field, String problem) {
    return new SimulationException(Kind.BAD_FIELD, field + ": " + problem);
  }

  static SimulationException wrongState(String message) {
    return new SimulationException(Kind.WRONG_STATE, message);
  }

  static SimulationException limit(String message) {
    return new SimulationException(Kind.LIMIT, message);
  }
}
