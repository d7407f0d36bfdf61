package org.mmumesh.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An N-node mmumesh cluster on loopback, one {@code mmumesh node} JVM per node, as {@code
 * deploy/local/cluster start N} makes one (the same roles, one seed, every other port chosen by the
 * node and read back from its startup line), for {@code mmumesh demo --nodes N}. The child JVMs run
 * this JVM's own class path and {@code -Xmx}; each writes its output to {@code node<i>.log} in a
 * run folder. {@link #close} stops them (SIGTERM, a graceful leave; SIGKILL after {@link
 * #STOP_GRACE}); a JVM shutdown hook does the same on Ctrl-C or a failure, so no node outlives the
 * command (a SIGKILL of the command itself is the one case that leaves them, as it would leave any
 * child).
 */
final class LocalCluster implements AutoCloseable {
  /** The largest cluster this starts (as the script's {@code start N}). */
  static final int MAX_NODES = 16;

  /** How long nodes get to leave after SIGTERM before SIGKILL. */
  static final Duration STOP_GRACE = Duration.ofSeconds(60);

  private static final Pattern MANAGEMENT =
      Pattern.compile("management on http://[^ ]*:([0-9]+) \\(");
  private static final Pattern GATEWAY = Pattern.compile("gateway on [^ ]*:([0-9]+), metrics");
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Path runDir;
  private final List<String> roles;
  private final List<Process> processes = new ArrayList<>();
  private final Thread hook = new Thread(this::stop, "mmumesh-local-cluster-stop");
  private int grpcPort = -1;

  private LocalCluster(Path runDir, List<String> roles) {
    this.runDir = runDir;
    this.roles = roles;
  }

  /**
   * Each node's roles for an {@code n}-node cluster, as {@code deploy/local/cluster start N}: 1
   * node has every role; 2 are {@code gateway,frames} and {@code mmu,vcpu}; 3 or more are {@code
   * gateway,frames}, {@code mmu}, {@code vcpu} and then {@code frames,mmu,vcpu} for the others.
   *
   * @throws IllegalArgumentException naming {@code --nodes} when {@code n} is not 1 to {@link
   *     #MAX_NODES}
   */
  static List<String> plan(int n) {
    if (n < 1 || n > MAX_NODES) {
      throw new IllegalArgumentException(
          "--nodes: " + n + " is out of range; allowed 1 to " + MAX_NODES);
    }
    List<String> plan = new ArrayList<>();
    switch (n) {
      case 1 -> plan.add("gateway,frames,mmu,vcpu");
      case 2 -> plan.addAll(List.of("gateway,frames", "mmu,vcpu"));
      default -> {
        plan.addAll(List.of("gateway,frames", "mmu", "vcpu"));
        while (plan.size() < n) {
          plan.add("frames,mmu,vcpu");
        }
      }
    }
    return plan;
  }

  /**
   * Starts {@code n} node JVMs (roles as {@link #plan}) with {@code nodeOptions} added to each
   * {@code mmumesh node} command line, and waits up to {@code timeout} until every node's {@code
   * /ready} answers 200.
   *
   * @throws IllegalStateException naming the node, its log and its last lines when a node exits or
   *     is not ready in time; the nodes started are stopped first
   */
  static LocalCluster start(int n, List<String> nodeOptions, Duration timeout) {
    List<String> plan = plan(n);
    Path dir;
    try {
      dir = Files.createTempDirectory("mmumesh-nodes-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the nodes' run folder", e);
    }
    LocalCluster c = new LocalCluster(dir, plan);
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      c.launch(nodeOptions);
      c.awaitReady(timeout);
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void launch(List<String> nodeOptions) {
    int seedPort = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> jvm = new ArrayList<>();
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-Xmx") || a.startsWith("-Xss")) {
        jvm.add(a);
      }
    }
    for (int i = 0; i < roles.size(); i++) {
      List<String> cmd = new ArrayList<>(List.of(java));
      cmd.addAll(jvm);
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
      cmd.addAll(
          List.of(
              "node",
              "--roles",
              roles.get(i),
              "--seed-nodes",
              "127.0.0.1:" + seedPort,
              "--hostname",
              "127.0.0.1",
              "--port",
              i == 0 ? "" + seedPort : "0",
              "--grpc-port",
              "0",
              "--metrics-port",
              "0",
              "--management-port",
              "0"));
      cmd.addAll(nodeOptions);
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(log(i).toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      // the settings are this command line's, not the environment's
      pb.environment().keySet().removeIf(k -> k.startsWith("MMUMESH_"));
      try {
        processes.add(pb.start());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start node" + (i + 1) + ": " + e.getMessage(), e);
      }
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean[] ready = new boolean[roles.size()];
    while (true) {
      boolean all = true;
      for (int i = 0; i < ready.length; i++) {
        if (ready[i]) {
          continue;
        }
        Process p = processes.get(i);
        if (!p.isAlive()) {
          throw new IllegalStateException(
              name(i) + " exited with code " + p.exitValue() + " before it was ready" + tail(i));
        }
        Integer mgmt = portFrom(i, MANAGEMENT);
        ready[i] = mgmt != null && readyStatus(mgmt) == 200;
        all &= ready[i];
      }
      if (all) {
        Integer gp = portFrom(0, GATEWAY);
        if (gp == null) {
          throw new IllegalStateException(name(0) + " printed no gateway port" + tail(0));
        }
        grpcPort = gp;
        return;
      }
      if (System.nanoTime() > deadline) {
        for (int i = 0; i < ready.length; i++) {
          if (!ready[i]) {
            throw new IllegalStateException(
                name(i) + " not ready after " + timeout.toSeconds() + " s" + tail(i));
          }
        }
      }
      try {
        Thread.sleep(250); // polling child processes and HTTP: no event to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the nodes started", e);
      }
    }
  }

  /** The gateway node's gRPC port on 127.0.0.1. */
  int grpcPort() {
    return grpcPort;
  }

  /** Each node's roles, node 1 first. */
  List<String> roles() {
    return List.copyOf(roles);
  }

  /** The node JVMs (node 1 first). */
  List<Process> processes() {
    return List.copyOf(processes);
  }

  /** The folder holding each node's log. */
  Path runDir() {
    return runDir;
  }

  private String name(int i) {
    return "node" + (i + 1) + " (roles " + roles.get(i) + ")";
  }

  private Path log(int i) {
    return runDir.resolve("node" + (i + 1) + ".log");
  }

  private String tail(int i) {
    try {
      List<String> lines = Files.readAllLines(log(i), StandardCharsets.UTF_8);
      return "; last lines of "
          + log(i)
          + ":\n  "
          + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "; see " + log(i);
    }
  }

  private Integer portFrom(int i, Pattern p) {
    try {
      Matcher m = p.matcher(Files.readString(log(i), StandardCharsets.UTF_8));
      return m.find() ? Integer.parseInt(m.group(1)) : null;
    } catch (IOException | UncheckedIOException e) {
      return null; // not written yet
    }
  }

  private static int readyStatus(int port) {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /** SIGTERM to every node, then SIGKILL to those still running after {@link #STOP_GRACE}. */
  private void stop() {
    processes.forEach(Process::destroy);
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    for (Process p : processes) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        processes.forEach(Process::destroyForcibly);
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Stops every node (see {@link #stop}) and waits for them. */
  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs (or ran) anyway
    }
  }
}
