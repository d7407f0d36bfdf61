package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The entry point's help texts and exit codes. */
class MainTest {
  /** Every command's path, e.g. {@code [client, load]}. */
  private static void paths(CommandLine cl, List<String> prefix, List<List<String>> into) {
    into.add(prefix);
    for (var e : cl.getSubcommands().entrySet()) {
      List<String> p = new ArrayList<>(prefix);
      p.add(e.getKey());
      paths(e.getValue(), p, into);
    }
  }

  @Test
  void helpOfEveryCommand_formatsWithoutPicocliWarnings() throws Exception {
    List<List<String>> commands = new ArrayList<>();
    paths(Main.commandLine(), List.of(), commands);
    assertThat(commands).as("the command tree").hasSizeGreaterThan(8);
    // picocli reports a description it cannot format on its tracer's stream, not on the command's
    CommandLine.Tracer tracer = CommandLine.tracer();
    Field stream = CommandLine.Tracer.class.getDeclaredField("stream");
    stream.setAccessible(true);
    Object before = stream.get(tracer);
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    stream.set(tracer, new PrintStream(warnings, true, StandardCharsets.UTF_8));
    try {
      for (List<String> c : commands) {
        List<String> args = new ArrayList<>(c);
        args.add("--help");
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertThat(r.exit()).as("%s", args).isZero();
        assertThat(r.out()).as("%s", args).contains("Usage: mmumesh");
      }
    } finally {
      stream.set(tracer, before);
    }
    assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(CliRun.of("serve", "--help").out()).contains("auto (75% of");
    assertThat(CliRun.of("demo", "--help").out()).contains("auto (75% of");
  }

  @Test
  void grpcStatuses_exitTwoForTheCallersMistake_threeForTheEnvironment_oneOtherwise() {
    for (Status.Code c :
        List.of(
            Status.Code.INVALID_ARGUMENT,
            Status.Code.NOT_FOUND,
            Status.Code.ALREADY_EXISTS,
            Status.Code.FAILED_PRECONDITION,
            Status.Code.OUT_OF_RANGE)) {
      assertThat(GrpcErrors.exitCode(c)).as("%s", c).isEqualTo(2);
    }
    for (Status.Code c :
        List.of(
            Status.Code.UNAVAILABLE,
            Status.Code.DEADLINE_EXCEEDED,
            Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.ABORTED)) {
      assertThat(GrpcErrors.exitCode(c)).as("%s", c).isEqualTo(3);
    }
    for (Status.Code c :
        List.of(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.UNIMPLEMENTED)) {
      assertThat(GrpcErrors.exitCode(c)).as("%s", c).isEqualTo(1);
    }
  }

  /** A command that fails the way a gateway's refusal does. */
  @CommandLine.Command(name = "refused")
  static final class Refused implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription("memory budget: a VM needs more")
          .asRuntimeException();
    }
  }

  @Test
  void aGrpcFailureOutsideTheClientCommands_isOneLine_withItsExitCode() {
    CommandLine cl = Main.commandLine();
    cl.addSubcommand(new Refused());
    java.io.StringWriter err = new java.io.StringWriter();
    cl.setErr(new java.io.PrintWriter(err));
    cl.setOut(new java.io.PrintWriter(new java.io.StringWriter()));
    assertThat(cl.execute("refused")).isEqualTo(3);
    assertThat(err.toString().strip())
        .isEqualTo("mmumesh: RESOURCE_EXHAUSTED: memory budget: a VM needs more");
  }
}
