package org.mmumesh.gateway;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.BindableService;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.mmumesh.mesh.MeshCluster;
import org.mmumesh.mesh.NodeSettings;
import org.mmumesh.mesh.Simulation;

/**
 * The gateway as a server process (what {@code bin/mmumesh serve} runs): the embedded single-node
 * mesh cluster with a run-time {@link Simulation} ({@link MeshCluster#embeddedSimulation}), the
 * gRPC services on a port (with {@code grpc.health.v1}, reflection and per-RPC metrics), and the
 * Prometheus scrape endpoint.
 *
 * <p><b>Shutdown</b> goes through the actor system's CoordinatedShutdown: in its {@code
 * service-unbind} phase (before the cluster is left, sharding stops and the actors stop) the
 * gateway reports NOT_SERVING on health, ends the event watches (UNAVAILABLE), refuses new calls
 * (UNAVAILABLE, while still listening: a new connection's health check sees NOT_SERVING), lets
 * in-flight calls drain for up to {@link Settings#drain}, then ends the workload streams still open
 * (UNAVAILABLE with a retry hint, not CANCELLED), stops the server, and the metrics endpoint
 * closes. The phase's timeout (Pekko's default is 5 s) is raised to the drain plus {@link
 * #UNBIND_MARGIN}, and the node's shutdown timeout with it, so nothing below the gateway stops
 * under an open stream. CoordinatedShutdown runs on {@link Running#close}, on SIGTERM and Ctrl-C
 * ({@link #stopOnSignals}: the process then exits 0, not 143), on the JVM's shutdown hook and when
 * the node leaves the cluster.
 */
public final class GatewayMain {
  private GatewayMain() {}

  /**
   * What the service-unbind phase gets beyond the drain: the streams' end grace, the server's stop
   * grace and room for the metrics endpoint.
   */
  public static final Duration UNBIND_MARGIN =
      GatewayServer.END_GRACE.plus(GatewayServer.STOP_GRACE).plus(Duration.ofSeconds(10));

  /**
   * The mesh configuration for a gateway draining {@code drain}: CoordinatedShutdown's {@code
   * service-unbind} phase lasts up to the drain plus {@link #UNBIND_MARGIN}, and the node's
   * shutdown timeout ({@code mmumesh.mesh.shutdown-timeout}) 30 s beyond that; both unless {@code
   * mesh} sets them.
   */
  public static Config meshConfig(Config mesh, Duration drain) {
    Duration unbind = drain.plus(UNBIND_MARGIN);
    return mesh.withFallback(
        ConfigFactory.parseMap(
            Map.of(
                "pekko.coordinated-shutdown.phases.service-unbind.timeout",
                unbind.toMillis() + "ms",
                "mmumesh.mesh.shutdown-timeout",
                unbind.plusSeconds(30).toMillis() + "ms")));
  }

  /**
   * Where to serve.
   *
   * @param host the address the gRPC server and the metrics endpoint bind
   * @param port the gRPC port (0: a free one)
   * @param metricsPort the Prometheus port (0: a free one)
   * @param drain how long in-flight calls may finish at shutdown
   * @param mesh overrides of the mesh configuration ({@code mmumesh.mesh.*}, {@code pekko.*})
   * @param tls the gateway's TLS files, or null for plaintext
   */
  public record Settings(
      String host, int port, int metricsPort, Duration drain, Config mesh, GatewayTls tls) {
    /** Checks the ranges. */
    public Settings {
      Objects.requireNonNull(host, "host");
      Fields.uint32("port", port, 0, 65535);
      Fields.uint32("metrics_port", metricsPort, 0, 65535);
      Objects.requireNonNull(drain, "drain");
      Objects.requireNonNull(mesh, "mesh");
    }

    /** Plaintext. */
    public Settings(String host, int port, int metricsPort, Duration drain, Config mesh) {
      this(host, port, metricsPort, drain, mesh, null);
    }

    /** Loopback, free ports, 10 s drain, the mesh's defaults. */
    public static Settings defaults() {
      return new Settings("127.0.0.1", 0, 0, Duration.ofSeconds(10), ConfigFactory.empty());
    }
  }

  /** A running gateway; {@link #close} shuts everything down through CoordinatedShutdown. */
  public record Running(
      MeshCluster cluster,
      Simulation simulation,
      GatewayServer server,
      MetricsEndpoint metrics,
      PrometheusMeterRegistry registry)
      implements AutoCloseable {
    /** The gRPC port (-1 on a node without the gateway role). */
    public int port() {
      return server == null ? -1 : server.port();
    }

    /** Shuts the node down (the gateway first, in service-unbind) and waits for it. */
    @Override
    public void close() {
      cluster.close();
    }
  }

  /** The simulation's services over {@code sim}, and the transport-only echo baseline. */
  public static List<BindableService> services(Simulation sim) {
    VcpuStreams streams = new VcpuStreams();
    return List.of(
        new HostService(sim),
        new VmService(sim, streams),
        new AccessService(sim, streams),
        new KsmService(sim),
        new ClusterService(sim),
        new EventService(sim),
        new EchoService());
  }

  /**
   * Starts the embedded mesh node and the gateway on it; returns once the node is Up and the server
   * listens.
   */
  public static Running start(Settings s) {
    MeshCluster cluster = MeshCluster.embeddedSimulation(meshConfig(s.mesh(), s.drain()));
    try {
      return serveOn(cluster, s);
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /**
   * A node process ({@code mmumesh node}): the node of {@code node} (the embedded single-node
   * cluster without seed nodes, else a member of its seed nodes' cluster) with Pekko Management,
   * and, where it has the gateway role, the gRPC gateway and metrics on it, whose readiness joins
   * the node's ({@link GatewayReadiness}) and whose {@code grpc.health.v1} status follows the
   * node's readiness (checked every second). {@code node}'s configuration should come from {@link
   * #meshConfig} (the drain's shutdown timeouts).
   *
   * @return the running gateway, or a {@link Running} without server on a node without the role
   * @throws IllegalArgumentException when a port is taken or no seed node answers in time (naming
   *     the option); nothing is left running
   */
  public static Running startNode(NodeSettings node, Duration drain) {
    return startNode(node, drain, null);
  }

  /**
   * {@link #startNode(NodeSettings, Duration)} with the gateway (where the node has the role)
   * serving TLS with {@code tls}, or plaintext where it is null.
   */
  public static Running startNode(NodeSettings node, Duration drain, GatewayTls tls) {
    node.checkPortsFree(true);
    NodeSettings withGateway = node;
    if (node.gateway()) {
      withGateway =
          new NodeSettings(
              node.roles(),
              node.seedNodes(),
              node.hostname(),
              node.port(),
              node.grpcPort(),
              node.metricsPort(),
              node.managementPort(),
              ConfigFactory.parseMap(
                      Map.of(
                          "pekko.management.health-checks.readiness-checks."
                              + GatewayReadiness.CHECK,
                          GatewayReadiness.class.getName()))
                  .withFallback(node.config()));
    }
    MeshCluster cluster = MeshCluster.node(withGateway, true);
    try {
      if (!node.gateway()) {
        return new Running(cluster, null, null, null, null);
      }
      Running r =
          serveOn(
              cluster,
              new Settings(
                  node.hostname(),
                  node.grpcPort(),
                  node.metricsPort(),
                  drain,
                  ConfigFactory.empty(),
                  tls));
      r.server().setHealth(false);
      GatewayReadiness.SERVING.get(cluster.classicSystem(0)).server = r.server();
      cluster.watchReadiness(
          Duration.ofSeconds(1), notReady -> r.server().setHealth(notReady.isEmpty()));
      return r;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  private static Running serveOn(MeshCluster cluster, Settings s) {
    Simulation sim = cluster.simulation(0);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<BindableService> services = services(sim);
    GatewayServer server =
        GatewayServer.netty(
                s.host(),
                s.port(),
                s.tls(),
                services,
                List.of(
                    new DrivingGateway(() -> cluster.otherDrivingGateway(0).map(Object::toString)),
                    new GrpcMetrics(registry)))
            .start();
    SimulationMetrics simMetrics = new SimulationMetrics(sim, registry);
    MetricsEndpoint metrics =
        MetricsEndpoint.start(
            s.host(), s.metricsPort(), registry, () -> simMetrics.refresh(Duration.ofSeconds(5)));
    cluster.onServiceUnbind(
        0,
        "mmumesh-gateway-unbind",
        () -> {
          // event feeds never end by themselves: they are ended once no new call starts; the
          // other calls drain, and workload streams still open at the deadline are ended
          server.shutdown(
              s.drain(),
              () ->
                  services.stream()
                      .filter(EventService.class::isInstance)
                      .forEach(e -> ((EventService) e).endWatches()),
              () ->
                  services.stream()
                      .filter(AccessService.class::isInstance)
                      .forEach(a -> ((AccessService) a).endStreams()));
          metrics.close();
        });
    return new Running(cluster, sim, server, metrics, registry);
  }

  /**
   * Makes SIGTERM and SIGINT (Ctrl-C) run {@code stop} (a graceful shutdown, on its own thread)
   * instead of the JVM's default, which exits 143 (130) whatever the shutdown did: the process then
   * ends when its main thread returns, with the exit code it chooses (0 for a clean stop). A signal
   * the JVM does not let us handle (e.g. under {@code -Xrs}) keeps its default.
   */
  @SuppressWarnings("sunapi")
  public static void stopOnSignals(Runnable stop) {
    Objects.requireNonNull(stop, "stop");
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name),
            sig -> new Thread(stop, "mmumesh-stop-on-SIG" + name).start());
      } catch (IllegalArgumentException e) {
        // not handled here: the JVM's default stays
      }
    }
  }

  /**
   * {@code GatewayMain [--host H] [--port P] [--metrics-port M] [--drain-seconds S]}: serves until
   * SIGTERM / Ctrl-C, which shut it down gracefully and exit 0. Defaults: 127.0.0.1, 50051, 9464,
   * 10.
   */
  public static void main(String[] args) throws InterruptedException {
    String host = "127.0.0.1";
    int port = 50051;
    int metricsPort = 9464;
    int drainSeconds = 10;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + ": needs a value");
      }
      switch (a) {
        case "--host" -> host = args[++i];
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--metrics-port" -> metricsPort = Integer.parseInt(args[++i]);
        case "--drain-seconds" -> drainSeconds = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                a + ": unknown option; allowed --host, --port, --metrics-port, --drain-seconds");
      }
    }
    Running r =
        start(
            new Settings(
                host, port, metricsPort, Duration.ofSeconds(drainSeconds), ConfigFactory.empty()));
    stopOnSignals(r::close); // before saying it serves: a SIGTERM after that exits 0
    System.out.println(
        "mmumesh gateway on "
            + host
            + ":"
            + r.port()
            + ", metrics on http://"
            + host
            + ":"
            + r.metrics().port()
            + "/metrics");
    r.cluster().awaitTermination();
  }
}
