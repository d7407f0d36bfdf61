package org.mmumesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bin/mmumesh} entry point. */
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
      ClientCommand.class
    })
public final class Main implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /**
   * Builds the command line with mmumesh's error handling: bad input gets a message, not a trace.
   */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          if (ex instanceof IllegalArgumentException) {
            cmd.getErr().println("mmumesh: " + ex.getMessage());
            return 2;
          }
          throw ex;
        });
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
