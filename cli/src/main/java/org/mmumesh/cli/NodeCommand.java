package org.mmumesh.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.gateway.GatewayTls;
import org.mmumesh.mesh.NodeSettings;
import org.mmumesh.mesh.NodeSettings.Setting;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh node}: one node of a cluster in this process (architecture section 6,
 * "Processes"). Its roles, seed nodes, hostname and ports come from the options, else the
 * environment ({@code MMUMESH_ROLES}, ...), else HOCON ({@code mmumesh.mesh.*}), else the defaults
 * ({@link NodeSettings} has the table). Without seed nodes it is the embedded single-node cluster
 * that {@code serve} runs, plus Pekko Management. It serves until SIGTERM / Ctrl-C (graceful, exit
 * 0) or until the cluster downs it (it then leaves and exits 0); configuration mistakes (an unknown
 * role, a malformed seed node, a port in use, seed nodes that never answer) print one line naming
 * the option and exit 2 with nothing left running.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one node of a cluster: the entities of its roles, Pekko Management (/alive, /ready,",
      "/cluster/members) and, with the gateway role, the gRPC gateway and metrics. Each option",
      "can also be set by an environment variable (MMUMESH_ROLES, MMUMESH_SEED_NODES, ...) or a",
      "HOCON key under mmumesh.mesh; an option wins over the variable, the variable over HOCON."
    })
final class NodeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--roles",
      paramLabel = "ROLE,...",
      description = "frames, mmu, vcpu, gateway (default frames,mmu,vcpu; with no seed nodes all).")
  String roles;

  @Option(
      names = "--seed-nodes",
      paramLabel = "HOST:PORT,...",
      description = "Artery addresses of the cluster's seed nodes; none: a single-node cluster.")
  String seedNodes;

  @Option(
      names = "--hostname",
      description =
          "Address bound and advertised by Artery, gRPC, metrics, management"
              + " (default 127.0.0.1).")
  String hostname;

  @Option(names = "--port", description = "Artery (cluster) port, 0 for a free one (default 0).")
  String port;

  @Option(names = "--grpc-port", description = "gRPC port of a gateway node (default 50051).")
  String grpcPort;

  @Option(
      names = "--metrics-port",
      description = "Prometheus port of a gateway node (default 9464).")
  String metricsPort;

  @Option(names = "--management-port", description = "Pekko Management port (default 7626).")
  String managementPort;

  @Option(
      names = "--cluster-name",
      description =
          "The cluster this node belongs to; it joins only seed nodes of the same name and"
              + " mmumesh version (default mmumesh).")
  String clusterName;

  @Mixin ServingOptions serving = new ServingOptions();

  @Mixin GatewayTlsOptions tls = new GatewayTlsOptions();

  /** The environment the settings are read from (tests give their own). */
  Map<String, String> env = System.getenv();

  /**
   * Whether SIGTERM and Ctrl-C stop the node gracefully (as {@link ServeCommand#stopOnSignals}).
   */
  boolean stopOnSignals = true;

  @Override
  public Integer call() throws InterruptedException {
    Duration drain = serving.drain();
    Map<Setting, String> options = new EnumMap<>(Setting.class);
    put(options, Setting.ROLES, roles);
    put(options, Setting.SEED_NODES, seedNodes);
    put(options, Setting.HOSTNAME, hostname);
    put(options, Setting.PORT, port);
    put(options, Setting.GRPC_PORT, grpcPort);
    put(options, Setting.METRICS_PORT, metricsPort);
    put(options, Setting.MANAGEMENT_PORT, managementPort);
    put(options, Setting.CLUSTER_NAME, clusterName);
    NodeSettings node =
        NodeSettings.resolve(
            options,
            env,
            GatewayMain.meshConfig(ServeCommand.meshConfig(serving.memoryBudget), drain));
    GatewayTls gatewayTls = tls.resolve(env, node.config());
    if (gatewayTls != null && !node.gateway()) {
      throw new IllegalArgumentException(
          "--tls-cert: this node has no gateway role (roles "
              + String.join(",", new java.util.TreeSet<>(node.roles()))
              + "); gateway TLS applies only to a node serving gRPC: add the gateway role or drop"
              + " the TLS settings (Artery TLS is set with pekko.remote.artery.ssl.*)");
    }
    org.slf4j.LoggerFactory.getILoggerFactory();
    GatewayMain.Running r = GatewayMain.startNode(node, drain, gatewayTls);
    if (stopOnSignals) {
      GatewayMain.stopOnSignals(r::close);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "mmumesh node %s roles %s; management on http://%s:%d (/alive, /ready, /cluster/members)",
        r.cluster().address(0),
        String.join(",", new java.util.TreeSet<>(node.roles())),
        node.hostname(),
        r.cluster().managementPort());
    if (r.server() != null) {
      out.printf(
          "; gateway on %s:%d%s, metrics on http://%s:%d/metrics",
          node.hostname(),
          r.port(),
          gatewayTls == null ? "" : " over " + gatewayTls.describe(),
          node.hostname(),
          r.metrics().port());
    }
    out.printf("; Ctrl-C stops it%n");
    out.flush();
    r.cluster().awaitTermination();
    String ended =
        endedBy(
            CoordinatedShutdown.get(r.cluster().classicSystem(0)).getShutdownReason().orElse(null));
    if (ended != null) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(ended);
      err.flush();
    }
    return 0;
  }

  /**
   * The line a node prints when something other than its own stop (SIGTERM, Ctrl-C) ended it, for
   * the CoordinatedShutdown {@code reason}; null for its own stop. Downed by the cluster (the
   * split- brain resolver on the majority's side after it was unreachable, e.g. a long GC pause or
   * SIGSTOP; or its own, finding itself in the minority): it does not serve the state it held,
   * which the others have marked lost, but leaves and stops (Pekko's {@code
   * run-coordinated-shutdown-when-down}).
   */
  static String endedBy(CoordinatedShutdown.Reason reason) {
    if (reason == null || reason == CoordinatedShutdown.actorSystemTerminateReason()) {
      return null;
    }
    if (reason == CoordinatedShutdown.clusterDowningReason()) {
      return "mmumesh node: this node was downed by the cluster (unreachable for the others, or"
          + " on the minority side of a partition); it shut down rather than serve state the"
          + " cluster has marked lost";
    }
    return "mmumesh node: shut down: " + reason.getClass().getSimpleName().replace("$", "");
  }

  private static void put(Map<Setting, String> options, Setting s, String value) {
    if (value != null) {
      options.put(s, value);
    }
  }
}
