package org.mmumesh.cli;

import io.grpc.StatusRuntimeException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code bin/mmumesh} entry point. Exit codes: 0 success, 2 bad input (a message naming the
 * option or field), 3 an environment failure (out of memory, a full disk, ...: one line saying what
 * ran out and how to raise it, see {@link FatalErrors}), 1 anything else; a gRPC failure is one
 * line with its status and an exit code by whose mistake it was ({@link GrpcErrors}). A run stopped
 * by Ctrl-C says "interrupted" and nothing more.
 */
@Command(
    name = "mmumesh",
    mixinStandardHelpOptions = true,
    version = "mmumesh 0.1.0",
    description = "A simulator of the PowerPC Book3S PR KVM memory management unit.",
    subcommands = {
      RunCommand.class,
      DemoCommand.class,
      TranslateCommand.class,
      ServeCommand.class,
      NodeCommand.class,
      ClientCommand.class
    })
public final class Main implements Runnable {

  @Option(
      names = "--debug",
      scope = ScopeType.INHERIT,
      description =
          "On a failure of the environment (out of memory, disk full), print the stack trace too.")
  boolean debug;

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /**
   * Builds the command line with mmumesh's error handling: bad input gets a message, not a trace;
   * an environment failure one line and exit code 3.
   */
  public static CommandLine commandLine() {
    return commandLine(new Main());
  }

  private static CommandLine commandLine(Main main) {
    CommandLine cl = new CommandLine(main);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          if (ex instanceof IllegalArgumentException) {
            cmd.getErr().println("mmumesh: " + ex.getMessage());
            return 2;
          }
          if (FatalErrors.isEnvironmentFailure(ex)) {
            FatalErrors.debug(main.debug);
            cmd.getErr().println(FatalErrors.line(ex));
            if (main.debug) {
              ex.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return FatalErrors.EXIT_CODE;
          }
          if (shuttingDown()) {
            // Ctrl-C or SIGTERM: the JVM is stopping and has stopped what the command waited on
            // (an embedded gateway drains, a channel closes); that is no failure to report.
            cmd.getErr().println("mmumesh: interrupted");
            cmd.getErr().flush();
            return INTERRUPTED;
          }
          StatusRuntimeException grpc = GrpcErrors.find(ex);
          if (grpc != null) {
            cmd.getErr().println("mmumesh: " + GrpcErrors.status(grpc));
            if (main.debug) {
              ex.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return GrpcErrors.exitCode(grpc.getStatus().getCode());
          }
          throw ex;
        });
    return cl;
  }

  /** The exit code of a run stopped by Ctrl-C (SIGINT), as a shell reports it: 128 + 2. */
  static final int INTERRUPTED = 130;

  /**
   * True if the JVM has begun to shut down (a signal, or {@code System.exit} elsewhere): it then
   * refuses new shutdown hooks, which is the only public way to ask.
   */
  static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
    } catch (IllegalStateException e) {
      return true;
    }
    Runtime.getRuntime().removeShutdownHook(probe);
    return false;
  }

  public static void main(String[] args) {
    FatalErrors.install();
    FatalAwareExecutor.install();
    Main main = new Main();
    int exit;
    try {
      exit = commandLine(main).execute(args);
    } catch (Throwable e) { // an Error escapes picocli's handler: out of memory, stack overflow
      if (!FatalErrors.isEnvironmentFailure(e)) {
        throw e;
      }
      FatalErrors.debug(main.debug);
      exit = FatalErrors.report(e, System.err);
    }
    if (exit == FatalErrors.EXIT_CODE) {
      System.out.flush();
      System.err.flush();
      // halt, not exit: a Pekko thread that ran out of memory too may already be in
      // System.exit(-1) ('jvm-exit-on-fatal-error'), and a second exit would wait for it forever.
      Runtime.getRuntime().halt(exit);
    }
    System.exit(exit);
  }
}
