package org.mmumesh.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A gRPC failure as the user reads it: one line with the status and its description, never a stack
 * trace (unless {@code --debug}), and an exit code by whose mistake it was (README "Exit codes"): 2
 * for a request the caller got wrong ({@code INVALID_ARGUMENT}, {@code NOT_FOUND}, {@code
 * ALREADY_EXISTS}, {@code FAILED_PRECONDITION}, {@code OUT_OF_RANGE}), 3 for the environment
 * ({@code UNAVAILABLE}, {@code DEADLINE_EXCEEDED}, {@code RESOURCE_EXHAUSTED}, and {@code ABORTED}:
 * a call or workload stream that was running when its VM was lost with a node, which the caller did
 * not get wrong and which a new run on new VMs can pass), 1 for anything else (a bug on one side or
 * the other). A call made on a VM already lost answers {@code FAILED_PRECONDITION} (exit 2): the
 * VM's state is the precondition, and the caller must delete it and create it anew.
 */
final class GrpcErrors {
  private GrpcErrors() {}

  /** The exit code for a call that ended with {@code code}. */
  static int exitCode(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, OUT_OF_RANGE -> 2;
      case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED -> FatalErrors.EXIT_CODE;
      default -> 1;
    };
  }

  /** The gRPC failure in {@code e}'s cause chain, or null. */
  static StatusRuntimeException find(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof StatusRuntimeException s) {
        return s;
      }
    }
    return null;
  }

  /** {@code RESOURCE_EXHAUSTED: memory budget: ...}. */
  static String status(StatusRuntimeException e) {
    String d = e.getStatus().getDescription();
    return e.getStatus().getCode() + (d == null ? "" : ": " + d);
  }

  /** True if {@code e} is a refusal by a node's memory budget (mesh {@code MemoryBudget}). */
  static boolean memoryBudget(StatusRuntimeException e) {
    String d = e.getStatus().getDescription();
    return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED
        && d != null
        && d.startsWith("memory budget:");
  }
}
