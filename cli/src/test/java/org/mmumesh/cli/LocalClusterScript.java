package org.mmumesh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code deploy/local/cluster} of this checkout as a process, with {@code MMUMESH_LAUNCHER}
 * set (and every other {@code MMUMESH_*} variable removed), its run folder in a test folder; its
 * stdout and stderr go to files, so that nodes it leaves running never hold the test's pipes.
 */
final class LocalClusterScript {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path SCRIPT = ROOT.resolve("deploy/local/cluster");

  /** One run: exit code, stdout, stderr. */
  record Ran(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  private final Path runDir;
  private final Path launcher;
  private final Path scratch;

  LocalClusterScript(Path runDir, Path launcher, Path scratch) {
    this.runDir = runDir;
    this.launcher = launcher;
    this.scratch = scratch;
  }

  /** Runs the script with {@code args} after {@code --run-dir}, waiting up to {@code minutes}. */
  Ran run(int minutes, String... args) throws IOException, InterruptedException {
    Path out = Files.createTempFile(scratch, "out", ".txt");
    Path err = Files.createTempFile(scratch, "err", ".txt");
    Process p = start(out, err, args);
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError(
          "deploy/local/cluster "
              + String.join(" ", args)
              + " still ran after "
              + minutes
              + " min");
    }
    return new Ran(
        p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err));
  }

  /** Starts the script with {@code args} after {@code --run-dir}, its output into two files. */
  Process start(Path out, Path err, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString(), "--run-dir", runDir.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(scratch.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("MMUMESH_"));
    env.put("MMUMESH_LAUNCHER", launcher.toString());
    return pb.start();
  }

  /** The pids the state file lists (none before a start). */
  List<Long> pids() throws IOException {
    Path state = runDir.resolve("nodes");
    if (!Files.exists(state)) {
      return List.of();
    }
    List<Long> pids = new ArrayList<>();
    for (String line : Files.readAllLines(state)) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 2) {
        pids.add(Long.parseLong(f[1]));
      }
    }
    return pids;
  }

  /**
   * True if {@code pid} runs. A zombie does not: the nodes outlive the script that started them,
   * and where the container's pid 1 does not reap orphans, a killed node stays a zombie.
   */
  static boolean alive(long pid) {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (Files.isDirectory(Path.of("/proc", "self"))) {
      try {
        String s = Files.readString(stat);
        // pid (comm) STATE ...: the state follows the last ')'; a process whose memory is gone
        // (being torn down after SIGKILL) has an empty command line: dead, as the script says
        return s.charAt(s.lastIndexOf(')') + 2) != 'Z' && !commandLine(pid).isEmpty();
      } catch (IOException e) {
        return false;
      }
    }
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * SIGKILL to every listed node still running (the test's cleanup, whatever happened). A pid
   * counts as a node if its command line names mmumesh: read from {@code /proc}, as in full ({@code
   * ProcessHandle.Info#commandLine} gives only the executable for a command line as long as a test
   * class path, so it cannot tell).
   */
  void killAll() throws IOException {
    for (long pid : pids()) {
      if (!alive(pid) || !commandLine(pid).contains("mmumesh")) {
        continue;
      }
      ProcessHandle.of(pid)
          .ifPresent(
              h -> {
                h.destroyForcibly();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (alive(pid) && System.nanoTime() < end) {
                  java.util.concurrent.locks.LockSupport.parkNanos(
                      TimeUnit.MILLISECONDS.toNanos(50));
                }
              });
    }
  }

  /** The command line of {@code pid} from /proc (NUL as space); "mmumesh" where /proc is absent. */
  static String commandLine(long pid) {
    Path cmdline = Path.of("/proc", Long.toString(pid), "cmdline");
    if (!Files.isDirectory(Path.of("/proc", "self"))) {
      return "mmumesh";
    }
    try {
      return new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  /** Writes an executable bash script {@code name} with {@code body} into {@code dir}. */
  static Path script(Path dir, String name, String body) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, "#!/usr/bin/env bash\n" + body + "\n");
    if (!p.toFile().setExecutable(true)) {
      throw new IOException("cannot make " + p + " executable");
    }
    return p;
  }

  /**
   * A launcher that runs the CLI from this test's class path ({@code bin/mmumesh} of a checkout
   * would run {@code cli/target/mmumesh-cli.jar}, which a test run has not built yet).
   */
  static Path classPathLauncher(Path dir) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return script(
        dir,
        "mmumesh",
        "exec '"
            + java
            + "' -Xmx384m ${MMUMESH_JAVA_OPTS:-} -cp '"
            + System.getProperty("java.class.path")
            + "' "
            + Main.class.getName()
            + " \"$@\"");
  }
}
