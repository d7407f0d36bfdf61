package org.mmumesh.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code mmumesh node} in a child JVM on loopback ({@code java -cp <the test class path>
 * org.mmumesh.cli.Main node ...}), its output collected; {@link #close} kills it (SIGKILL) so that
 * no JVM outlives its test.
 */
final class NodeProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final Process process;
  final int port;
  final int managementPort;
  private final StringBuilder output = new StringBuilder();
  private final Thread reader;

  private NodeProcess(Process process, int port, int managementPort) {
    this.process = process;
    this.port = port;
    this.managementPort = managementPort;
    this.reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  synchronized (output) {
                    output.append(line).append('\n');
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "node-output-" + port);
    reader.setDaemon(true);
    reader.start();
  }

  /** A free loopback port (closed again: the child binds it). */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Starts {@code mmumesh node} with {@code args} and {@code env} added to this process's
   * environment, and {@code jvmOptions} (e.g. {@code -Dmmumesh.mesh.startup-timeout=5s}) before the
   * main class; {@code port} and {@code managementPort} are the ones the arguments give.
   */
  static NodeProcess start(
      List<String> jvmOptions, List<String> args, Map<String, String> env, int port, int mgmt) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.add("node");
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("MMUMESH_"));
    pb.environment().putAll(env);
    try {
      return new NodeProcess(pb.start(), port, mgmt);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** What the node printed so far (stdout and stderr). */
  String output() {
    synchronized (output) {
      return output.toString();
    }
  }

  /** Its output once it exited (the reader drained). */
  String outputAfterExit() throws InterruptedException {
    reader.join(TimeUnit.SECONDS.toMillis(30));
    return output();
  }

  /** {@code GET http://127.0.0.1:<management port><path>}: status and body (-1 if refused). */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** {@code /ready}'s status, or -1 while nothing listens. */
  int ready() throws InterruptedException {
    try {
      return get("/ready").statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  /** The node's cluster address. */
  String address() {
    return "pekko://mmumesh-mesh@127.0.0.1:" + port;
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
