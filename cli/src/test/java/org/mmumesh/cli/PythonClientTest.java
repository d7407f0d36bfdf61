package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.gateway.GatewayMain;

/**
 * The Python example client (examples/python) against a real gateway: its stubs are generated from
 * the project's protos by Debian's protoc and grpc_python_plugin, and it runs under Debian's
 * python3 with python3-grpcio (the packages {@code bin/mmumesh-test} installs). Missing tools fail
 * the test with the package to install; the test never skips.
 */
class PythonClientTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private static String run(List<String> cmd, Path dir, String pythonPath) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    if (pythonPath != null) {
      pb.environment().put("PYTHONPATH", pythonPath);
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError(
          cmd.get(0)
              + " is missing: install Debian's protobuf-compiler, protobuf-compiler-grpc and"
              + " python3-grpcio (apt-get install ...; bin/mmumesh-test does)",
          e);
    }
    boolean done = p.waitFor(180, TimeUnit.SECONDS);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!done) {
      p.destroyForcibly();
      throw new AssertionError(cmd + " did not finish in 180 s:\n" + out);
    }
    assertThat(p.exitValue()).as(cmd + " exited with:\n" + out).isZero();
    return out;
  }

  @Test
  void pythonClient_seesLegacyUnshareOnReads_andStrictKeepSharing(@TempDir Path gen)
      throws Exception {
    Path protos = ROOT.resolve("proto/src/main/proto");
    List<String> protoc =
        new ArrayList<>(
            List.of(
                "/usr/bin/protoc",
                "-I",
                protos.toString(),
                "--python_out=" + gen,
                "--grpc_python_out=" + gen,
                "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"));
    try (var files = Files.list(protos.resolve("mmumesh/v1"))) {
      files.filter(f -> f.toString().endsWith(".proto")).forEach(f -> protoc.add(f.toString()));
    }
    run(protoc, ROOT, null);
    assertThat(gen.resolve("mmumesh/v1/access_service_pb2_grpc.py")).exists();

    try (GatewayMain.Running server = GatewayMain.start(GatewayMain.Settings.defaults())) {
      String out =
          run(
              List.of(
                  "/usr/bin/python3",
                  "mmumesh_client.py",
                  "--target",
                  "127.0.0.1:" + server.port()),
              ROOT.resolve("examples/python"),
              gen.toString());
      assertThat(out)
          .containsPattern("POLICY_LEGACY .*cow_ksm\\) [1-9]")
          .containsPattern("POLICY_STRICT .*cow_ksm\\) 0")
          .contains("strict keeps them shared: yes");
    }
  }
}
