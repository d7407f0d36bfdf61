package org.mmumesh.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.gateway.GatewayTls;
import org.mmumesh.mesh.MemoryBudget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh serve}: the gRPC gateway (package {@code mmumesh.v1}, with {@code grpc.health.v1}
 * and server reflection) over the embedded single-node actor-mesh cluster, and a Prometheus
 * endpoint; serves until SIGTERM / Ctrl-C, which shut down gracefully (health NOT_SERVING, new
 * calls refused, in-flight calls drain for {@code --drain-seconds}, open streams end UNAVAILABLE,
 * then the cluster leaves) and exit 0.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serves the simulation over gRPC (mmumesh.v1) on an embedded single-node cluster,",
      "with health, reflection and Prometheus metrics, until stopped (Ctrl-C or SIGTERM)."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      description = "Address to bind (default ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1")
  String host;

  @Option(
      names = "--port",
      description = "gRPC port, 0 for a free one (default ${DEFAULT-VALUE}).",
      defaultValue = "50051")
  int port;

  @Option(
      names = "--metrics-port",
      description = "Prometheus /metrics port, 0 for a free one (default ${DEFAULT-VALUE}).",
      defaultValue = "9464")
  int metricsPort;

  @Mixin ServingOptions serving = new ServingOptions();

  @Mixin GatewayTlsOptions tls = new GatewayTlsOptions();

  /**
   * Whether SIGTERM and Ctrl-C stop the gateway gracefully with exit code 0 ({@link
   * GatewayMain#stopOnSignals}); in-process tests turn it off so as not to take the signals of
   * their JVM.
   */
  boolean stopOnSignals = true;

  /** Completed with the running gateway once it serves (tests stop it through it). */
  final CompletableFuture<GatewayMain.Running> started = new CompletableFuture<>();

  /**
   * The mesh configuration for {@code --memory-budget} (of serve and demo).
   *
   * @throws IllegalArgumentException naming the option and the allowed values
   */
  static Config meshConfig(String memoryBudget) {
    Config mesh = ConfigFactory.parseMap(java.util.Map.of(MemoryBudget.CONFIG_KEY, memoryBudget));
    try {
      MemoryBudget.fromConfig(mesh);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--memory-budget: "
              + memoryBudget
              + " is not a size; allowed: auto, or bytes with an optional unit (512m, 4g)");
    }
    return mesh;
  }

  @Override
  public Integer call() throws InterruptedException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "--port: " + port + " is out of range; allowed 0 to 65535");
    }
    if (metricsPort < 0 || metricsPort > 65535) {
      throw new IllegalArgumentException(
          "--metrics-port: " + metricsPort + " is out of range; allowed 0 to 65535");
    }
    Duration drain = serving.drain();
    Config mesh = meshConfig(serving.memoryBudget);
    GatewayTls gatewayTls =
        tls.resolve(System.getenv(), org.mmumesh.mesh.MeshEngine.config(ConfigFactory.empty()));
    // Initialise logging before the actor system's threads log, so SLF4J has nothing to replay.
    org.slf4j.LoggerFactory.getILoggerFactory();
    GatewayMain.Running r =
        GatewayMain.start(
            new GatewayMain.Settings(host, port, metricsPort, drain, mesh, gatewayTls));
    if (stopOnSignals) {
      // before the line that says it serves: a SIGTERM after it is a clean stop, exit 0 not 143
      GatewayMain.stopOnSignals(r::close);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "mmumesh gateway on %s:%d%s (mmumesh.v1, grpc.health.v1, reflection), metrics on"
            + " http://%s:%d/metrics; Ctrl-C stops it%n",
        host,
        r.port(),
        gatewayTls == null ? "" : " over " + gatewayTls.describe(),
        host,
        r.metrics().port());
    out.flush();
    started.complete(r);
    r.cluster().awaitTermination();
    return 0;
  }
}
