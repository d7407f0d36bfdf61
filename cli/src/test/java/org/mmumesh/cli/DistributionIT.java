package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runnable distribution that {@code mvn package} builds ({@code
 * cli/target/mmumesh-<version>.tar.gz}, run by Failsafe after packaging): unpacked into an empty
 * folder, far from the checkout and without Maven, its {@code bin/mmumesh} runs the CLI from its
 * own {@code lib/}.
 */
class DistributionIT {
  private record Ran(int exit, String out) {}

  private static Ran run(Path dir, Path exe, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(exe.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().remove("MMUMESH_JAVA_OPTS");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(out).isTrue();
    return new Ran(p.exitValue(), out);
  }

  @Test
  void unpackedArchive_runsItsLauncher_withoutTheCheckout(@TempDir Path dir) throws Exception {
    Path archive = Path.of(System.getProperty("mmumesh.dist"));
    String version = System.getProperty("mmumesh.version");
    assertThat(archive).exists();
    Process tar =
        new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", dir.toString())
            .redirectErrorStream(true)
            .start();
    String tarOut = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(tar.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).as(tarOut).isZero();

    Path home = dir.resolve("mmumesh-" + version);
    Path exe = home.resolve("bin/mmumesh");
    assertThat(Files.isExecutable(exe)).as("bin/mmumesh is executable").isTrue();
    assertThat(jars(home.resolve("lib")))
        .contains(
            "cli-" + version + ".jar",
            "mesh-" + version + ".jar",
            "gateway-" + version + ".jar",
            "pekko-management_2.13-1.1.1.jar")
        .noneMatch(j -> j.contains("junit") || j.contains("assertj"));

    Ran v = run(dir, exe, "--version");
    assertThat(v.exit()).as(v.out()).isZero();
    assertThat(v.out().strip()).isEqualTo("mmumesh 0.1.0");

    Ran help = run(dir, exe, "node", "--help");
    assertThat(help.exit()).as(help.out()).isZero();
    assertThat(help.out()).contains("--seed-nodes", "--roles", "--management-port");

    Ran bad = run(dir, exe, "node", "--roles", "disk");
    assertThat(bad.exit()).as(bad.out()).isEqualTo(2);
    assertThat(bad.out()).contains("--roles: unknown role 'disk'");
  }

  private static List<String> jars(Path lib) throws IOException {
    try (Stream<Path> s = Files.list(lib)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
