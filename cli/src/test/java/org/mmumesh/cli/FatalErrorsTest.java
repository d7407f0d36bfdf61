package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FatalErrorsTest {
  private static final String SMALL = "uniform:vms=1,pages=64,accesses=200,seed=3";

  /** Runs bin/mmumesh's main class in a child JVM with {@code -Xmx<xmx>}. */
  private static Child child(String xmx, String... args) throws Exception {
    return child(Main.class, xmx, args);
  }

  /** Runs {@code main} in a child JVM with {@code -Xmx<xmx>}. */
  private static Child child(Class<?> main, String xmx, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + xmx);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    byte[] err = p.getErrorStream().readAllBytes(); // until the child ends
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("child JVM ended").isTrue();
    return new Child(p.exitValue(), new String(err, StandardCharsets.UTF_8));
  }

  record Child(int exit, String err) {
    List<String> lines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  @Test
  void outOfMemory_inTheMainThread_isOneLineNamingXmxAndMmumeshJavaOpts_exitCode3()
      throws Exception {
    // A synthetic image of 16 M pages needs a 128 MiB array: it cannot fit in 32 MiB.
    Child c =
        child(
            "32m",
            "run",
            "--engine",
            "sequential",
            "--workload",
            "identical:pages=16000000,vms=2",
            "--progress",
            "off");
    assertThat(c.exit()).as(c.err()).isEqualTo(3);
    assertThat(c.lines()).as(c.err()).hasSize(1);
    assertThat(c.lines().get(0))
        .startsWith("mmumesh: out of memory: the Java heap is full (-Xmx ")
        .contains("MiB)")
        .contains("MMUMESH_JAVA_OPTS=-Xmx");
    assertThat(c.err()).doesNotContain("at org.", "java.lang.OutOfMemoryError");
  }

  @Test
  void outOfMemory_withDebug_addsTheStackTrace() throws Exception {
    Child c =
        child(
            "32m",
            "run",
            "--debug",
            "--engine",
            "sequential",
            "--workload",
            "identical:pages=16000000,vms=2",
            "--progress",
            "off");
    assertThat(c.exit()).as(c.err()).isEqualTo(3);
    assertThat(c.lines().get(0)).startsWith("mmumesh: out of memory");
    assertThat(c.err()).contains("java.lang.OutOfMemoryError").contains("at org.mmumesh.");
  }

  @Test
  void outOfMemory_inAnActorOfTheMesh_isTheSameOneLine_notPekkosStackTrace() throws Exception {
    // The image (8 MiB) fits; the four guests' frames, page tables and shadow state do not.
    Child c =
        child(
            "64m",
            "run",
            "--workload",
            "identical:pages=1000000,vms=4,accesses=1000",
            "--policy",
            "legacy",
            "--progress",
            "off");
    assertThat(c.exit()).as(c.err()).isEqualTo(3);
    assertThat(c.err())
        .contains("mmumesh: out of memory: the Java heap is full (-Xmx 64 MiB)")
        .contains("MMUMESH_JAVA_OPTS")
        .doesNotContain("at org.", "at scala.", "java.lang.OutOfMemoryError", "Uncaught error");
    assertThat(c.lines().stream().filter(l -> l.startsWith("mmumesh:"))).hasSize(1);
  }

  @Test
  void outOfMemory_onPekkosPinnedIoDispatcher_isTheSameOneLine_notPekkosStackTrace()
      throws Exception {
    // Under load the mesh's OOM once surfaced first on the TCP selector's pinned thread, whose
    // thread-pool dispatcher FatalAwareExecutor did not cover: Pekko's line and trace, exit 255.
    Child c = child(FatalOnDispatcher.class, "64m", "pekko.io.pinned-dispatcher");
    assertThat(c.exit()).as(c.err()).isEqualTo(3);
    assertThat(c.lines()).as(c.err()).hasSize(2);
    assertThat(c.lines().get(0)).startsWith("thrown on mmumesh-fatal-pekko.io.pinned-dispatcher-");
    assertThat(c.lines().get(1))
        .isEqualTo(
            "mmumesh: out of memory: the Java heap is full (-Xmx 64 MiB); raise it through"
                + " MMUMESH_JAVA_OPTS, e.g. MMUMESH_JAVA_OPTS=-Xmx1g bin/mmumesh ..., or run a"
                + " smaller workload");
  }

  @Test
  void outOfMemory_onPekkosBlockingIoDispatcher_isTheSameOneLine() throws Exception {
    Child c = child(FatalOnDispatcher.class, "64m", "pekko.actor.default-blocking-io-dispatcher");
    assertThat(c.exit()).as(c.err()).isEqualTo(3);
    assertThat(c.lines()).as(c.err()).hasSize(2);
    assertThat(c.lines().get(0))
        .startsWith("thrown on mmumesh-fatal-pekko.actor.default-blocking-io-dispatcher-");
    assertThat(c.lines().get(1)).startsWith("mmumesh: out of memory: the Java heap is full");
  }

  @Test
  void fullDisk_writingTheSeries_isOneLine_exitCode3() {
    CliRun r =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            SMALL,
            "--policy",
            "strict",
            "--progress",
            "off",
            "--series",
            "/dev/full"); // every write to /dev/full fails with ENOSPC
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
    assertThat(r.err().strip())
        .isEqualTo(
            "mmumesh: --series: cannot write /dev/full: no space left on device; check the free"
                + " disk space and the file's permissions, then run again");
  }

  @Test
  void writeFailure_aBadPathIsTheCallersMistake_aFullDiskTheEnvironments() {
    Path f = Path.of("/x/report.html");
    assertThat(FatalErrors.writeFailure("--html", f, new NoSuchFileException("/x/report.html")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--html: cannot write /x/report.html: no such file");
    assertThat(FatalErrors.writeFailure("--html", f, new AccessDeniedException("/x")))
        .isInstanceOf(IllegalArgumentException.class);
    RuntimeException full =
        FatalErrors.writeFailure("--html", f, new IOException("No space left on device"));
    assertThat(full).isInstanceOf(UncheckedIOException.class);
    assertThat(FatalErrors.isEnvironmentFailure(new IllegalStateException(full))).isTrue();
    assertThat(FatalErrors.line(full))
        .startsWith("mmumesh: --html: cannot write /x/report.html: no space left on device;");
    assertThat(FatalErrors.isEnvironmentFailure(new IllegalStateException("a bug"))).isFalse();
  }

  @Test
  void report_causeChains_stackOverflow_andOtherMemoryPools_eachOneLine() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(buf, true, StandardCharsets.UTF_8);
    int code = FatalErrors.report(new IllegalStateException(new StackOverflowError()), err);
    assertThat(code).isEqualTo(3);
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(out.lines().count()).isEqualTo(1);
    assertThat(out).contains("out of stack").contains("MMUMESH_JAVA_OPTS=-Xss");
    assertThat(FatalErrors.line(new OutOfMemoryError("Metaspace")))
        .contains("Metaspace")
        .contains("MMUMESH_JAVA_OPTS=-XX:MaxMetaspaceSize");
    assertThat(FatalErrors.line(new OutOfMemoryError("unable to create native thread: possibly")))
        .contains("new thread");
    assertThat(FatalErrors.line(new OutOfMemoryError("Requested array size exceeds VM limit")))
        .contains("an array larger than the JVM allows")
        .contains("-Xmx will not help")
        .doesNotContain("MMUMESH_JAVA_OPTS");
    assertThat(
            FatalErrors.line(
                new java.io.UncheckedIOException(
                    "lackey trace t cannot be read: too many open files (...): raise the limit"
                        + " with `ulimit -n`, or run fewer vCPUs",
                    new java.io.IOException("Too many open files"))))
        .isEqualTo(
            "mmumesh: lackey trace t cannot be read: too many open files (...): raise the limit"
                + " with `ulimit -n`, or run fewer vCPUs");
  }

  @Test
  void human_andSuggestion() {
    assertThat(FatalErrors.human(256L << 20)).isEqualTo("256 MiB");
    assertThat(FatalErrors.human(4L << 30)).isEqualTo("4 GiB");
    assertThat(FatalErrors.human(3L << 29)).isEqualTo("1.5 GiB");
    assertThat(FatalErrors.suggestion(256L << 20)).isEqualTo("1g");
    assertThat(FatalErrors.suggestion(4L << 30)).isEqualTo("8g");
  }
}
