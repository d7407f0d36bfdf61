package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What one node process is (architecture section 6, "Processes"): its roles, the seed nodes it
 * joins, its hostname and its four ports, each resolved from a command-line option, an environment
 * variable or a HOCON key under {@code mmumesh.mesh}, in that order of precedence (then the default
 * in {@value MeshEngine#CONFIG_RESOURCE}):
 *
 * <table>
 *   <caption>node settings</caption>
 *   <tr><th>option</th><th>environment</th><th>HOCON</th><th>default</th></tr>
 *   <tr><td>--roles</td><td>MMUMESH_ROLES</td><td>mmumesh.mesh.roles</td><td>frames,mmu,vcpu</td>
 *   <tr><td>--seed-nodes</td><td>MMUMESH_SEED_NODES</td><td>mmumesh.mesh.seed-nodes</td>
 *       <td>none</td>
 *   <tr><td>--hostname</td><td>MMUMESH_HOSTNAME</td><td>mmumesh.mesh.hostname</td>
 *       <td>127.0.0.1</td>
 *   <tr><td>--port</td><td>MMUMESH_PORT</td><td>mmumesh.mesh.port</td><td>0 (free)</td>
 *   <tr><td>--grpc-port</td><td>MMUMESH_GRPC_PORT</td><td>mmumesh.mesh.grpc-port</td><td>50051</td>
 *   <tr><td>--metrics-port</td><td>MMUMESH_METRICS_PORT</td><td>mmumesh.mesh.metrics-port</td>
 *       <td>9464</td>
 *   <tr><td>--management-port</td><td>MMUMESH_MANAGEMENT_PORT</td>
 *       <td>mmumesh.mesh.management-port</td><td>7626</td>
 *   <tr><td>--cluster-name</td><td>MMUMESH_CLUSTER_NAME</td><td>mmumesh.mesh.cluster-name</td>
 *       <td>mmumesh</td>
 * </table>
 *
 * Lists (roles, seed nodes) are comma-separated in options and the environment. Roles are {@value
 * MeshEngine#ROLE_FRAMES}, {@value MeshEngine#ROLE_MMU}, {@value MeshEngine#ROLE_VCPU} (which
 * entities the node hosts, see {@link Guardian}) and {@value #ROLE_GATEWAY} (the node serves gRPC).
 * Without seed nodes the node is the embedded single-node cluster that joins itself: it must hold
 * every entity role and serves the gateway whatever its roles say. Every mistake is an {@link
 * IllegalArgumentException} naming where the value came from (the option, the variable or the key)
 * and what is allowed; nothing is started before these checks pass.
 *
 * @param roles the node's cluster roles (with {@value #ROLE_GATEWAY} on an embedded node)
 * @param seedNodes the seed nodes as {@code host:port}, empty for the embedded node
 * @param hostname what Artery, the gateway, metrics and management bind and advertise
 * @param port the Artery port (0: a free one)
 * @param grpcPort the gateway's gRPC port (0: a free one)
 * @param metricsPort the Prometheus port (0: a free one)
 * @param managementPort Pekko Management's port (0: a free one)
 * @param config the node's whole configuration ({@link MeshEngine#config} with these settings and
 *     {@code pekko.cluster.seed-nodes} derived from them)
 */
public record NodeSettings(
    Set<String> roles,
    List<String> seedNodes,
    String hostname,
    int port,
    int grpcPort,
    int metricsPort,
    int managementPort,
    Config config) {

  /** The role of a node that serves the gRPC gateway. */
  public static final String ROLE_GATEWAY = "gateway";

  /** Every role a node may have. */
  public static final Set<String> KNOWN_ROLES =
      Set.of(MeshEngine.ROLE_FRAMES, MeshEngine.ROLE_MMU, MeshEngine.ROLE_VCPU, ROLE_GATEWAY);

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\]");

  private static final Pattern CLUSTER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  /** One setting: its option, environment variable and HOCON key. */
  public enum Setting {
    ROLES("--roles", "MMUMESH_ROLES", "roles"),
    SEED_NODES("--seed-nodes", "MMUMESH_SEED_NODES", "seed-nodes"),
    HOSTNAME("--hostname", "MMUMESH_HOSTNAME", "hostname"),
    PORT("--port", "MMUMESH_PORT", "port"),
    GRPC_PORT("--grpc-port", "MMUMESH_GRPC_PORT", "grpc-port"),
    METRICS_PORT("--metrics-port", "MMUMESH_METRICS_PORT", "metrics-port"),
    MANAGEMENT_PORT("--management-port", "MMUMESH_MANAGEMENT_PORT", "management-port"),
    CLUSTER_NAME("--cluster-name", "MMUMESH_CLUSTER_NAME", "cluster-name");

    /** The command-line option. */
    public final String option;

    /** The environment variable. */
    public final String env;

    /** The HOCON key. */
    public final String key;

    Setting(String option, String env, String key) {
      this.option = option;
      this.env = env;
      this.key = "mmumesh.mesh." + key;
    }
  }

  /** Copies the collections. */
  public NodeSettings {
    roles = Set.copyOf(roles);
    seedNodes = List.copyOf(seedNodes);
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(config, "config");
  }

  /** True for the embedded single-node cluster (no seed nodes). */
  public boolean embedded() {
    return seedNodes.isEmpty();
  }

  /** True if the node serves the gRPC gateway. */
  public boolean gateway() {
    return roles.contains(ROLE_GATEWAY);
  }

  /**
   * Resolves the settings: {@code options} (the options given, by setting), then {@code env} (the
   * process environment), then the HOCON keys of {@code overrides} over {@link MeshEngine#config}.
   *
   * @throws IllegalArgumentException naming the option, variable or key of a bad value
   */
  public static NodeSettings resolve(
      Map<Setting, String> options, Map<String, String> env, Config overrides) {
    Config hocon = MeshEngine.config(overrides);
    Map<Setting, Source> chosen = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      String flag = options.get(s);
      String fromEnv = env.get(s.env);
      if (flag != null) {
        chosen.put(s, new Source(s.option, flag));
      } else if (fromEnv != null && !fromEnv.isBlank()) {
        chosen.put(s, new Source(s.env, fromEnv));
      } else {
        chosen.put(s, new Source(s.key, hoconString(hocon, s.key)));
      }
    }
    Set<String> roles = roles(chosen.get(Setting.ROLES));
    List<String> seeds = seedNodes(chosen.get(Setting.SEED_NODES));
    Source hostSource = chosen.get(Setting.HOSTNAME);
    String hostname = hostSource.value().trim();
    if (!HOST.matcher(hostname).matches()) {
      throw new IllegalArgumentException(
          hostSource.name()
              + ": '"
              + hostname
              + "' is not a hostname; allowed: a name or an address (127.0.0.1, [::1])");
    }
    int port = port(chosen.get(Setting.PORT));
    int grpcPort = port(chosen.get(Setting.GRPC_PORT));
    int metricsPort = port(chosen.get(Setting.METRICS_PORT));
    int managementPort = port(chosen.get(Setting.MANAGEMENT_PORT));
    Source nameSource = chosen.get(Setting.CLUSTER_NAME);
    String clusterName = nameSource.value().trim();
    if (!CLUSTER_NAME.matcher(clusterName).matches()) {
      throw new IllegalArgumentException(
          nameSource.name()
              + ": '"
              + clusterName
              + "' is not a cluster name; allowed: 1 to 63 letters, digits, '.', '_' or '-',"
              + " starting with a letter or digit");
    }
    Set<String> entityRoles = new TreeSet<>(roles);
    entityRoles.remove(ROLE_GATEWAY);
    if (seeds.isEmpty()) {
      if (!entityRoles.containsAll(MeshEngine.ALL_ROLES)) {
        throw new IllegalArgumentException(
            chosen.get(Setting.ROLES).name()
                + ": "
                + String.join(",", new TreeSet<>(roles))
                + " on a node without seed nodes (the embedded single-node cluster) leaves entities"
                + " without a node; required: frames,mmu,vcpu, or give "
                + Setting.SEED_NODES.option
                + " to join a cluster");
      }
      roles = new TreeSet<>(roles);
      roles.add(ROLE_GATEWAY);
    }
    Map<String, Object> keys = new LinkedHashMap<>();
    keys.put(Setting.ROLES.key, List.copyOf(new TreeSet<>(roles)));
    keys.put(Setting.SEED_NODES.key, seeds);
    keys.put(Setting.HOSTNAME.key, hostname);
    keys.put(Setting.PORT.key, port);
    keys.put(Setting.GRPC_PORT.key, grpcPort);
    keys.put(Setting.METRICS_PORT.key, metricsPort);
    keys.put(Setting.MANAGEMENT_PORT.key, managementPort);
    keys.put(Setting.CLUSTER_NAME.key, clusterName);
    List<String> seedAddresses = new ArrayList<>();
    for (String s : seeds) {
      seedAddresses.add("pekko://" + MeshEngine.SYSTEM_NAME + "@" + s);
    }
    keys.put("pekko.cluster.seed-nodes", seedAddresses);
    Config node = ConfigFactory.empty();
    for (Map.Entry<String, Object> e : keys.entrySet()) {
      node = node.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    Config config = MeshEngine.config(node.withFallback(overrides));
    checkDuration(config, STARTUP_TIMEOUT, Duration.ofHours(1));
    // the gateway's drain (up to an hour) plus its margins lengthen the shutdown
    checkDuration(config, SHUTDOWN_TIMEOUT, Duration.ofHours(3));
    return new NodeSettings(
        roles, seeds, hostname, port, grpcPort, metricsPort, managementPort, config);
  }

  /**
   * Checks that the fixed ports this node will bind are free on its hostname (Artery, and where
   * they are to be started management and the gateway's gRPC and metrics ports), before anything
   * starts, so that a port in use leaves nothing half-started.
   *
   * @throws IllegalArgumentException naming the option and the port in use
   */
  public void checkPortsFree(boolean management) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put(Setting.PORT.option, port);
    if (management) {
      ports.put(Setting.MANAGEMENT_PORT.option, managementPort);
    }
    if (gateway()) {
      ports.put(Setting.GRPC_PORT.option, grpcPort);
      ports.put(Setting.METRICS_PORT.option, metricsPort);
    }
    Map<Integer, String> seen = new java.util.HashMap<>();
    for (Map.Entry<String, Integer> e : ports.entrySet()) {
      int p = e.getValue();
      if (p == 0) {
        continue;
      }
      String other = seen.putIfAbsent(p, e.getKey());
      if (other != null) {
        throw new IllegalArgumentException(
            e.getKey() + ": " + p + " is also " + other + "; allowed: a port of its own, or 0");
      }
      String bindHost =
          hostname.startsWith("[") ? hostname.substring(1, hostname.length() - 1) : hostname;
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.setReuseAddress(true);
        probe.bind(new java.net.InetSocketAddress(bindHost, p));
      } catch (java.io.IOException ex) {
        throw new IllegalArgumentException(
            e.getKey()
                + ": "
                + hostname
                + ":"
                + p
                + " cannot be bound ("
                + ex.getMessage()
                + "); choose a free port, or 0 for any free one");
      }
    }
  }

  private record Source(String name, String value) {}

  private static final String STARTUP_TIMEOUT = "mmumesh.mesh.startup-timeout";
  private static final String SHUTDOWN_TIMEOUT = "mmumesh.mesh.shutdown-timeout";

  /** Checks that HOCON {@code key} is a duration from 1 s to {@code max}. */
  private static void checkDuration(Config c, String key, Duration max) {
    String allowed = "allowed 1s to " + max.toHours() + "h (e.g. 30s, 3m)";
    Duration d;
    try {
      d = c.getDuration(key);
    } catch (ConfigException e) {
      String raw = c.hasPath(key) ? String.valueOf(c.getValue(key).unwrapped()) : "(missing)";
      throw new IllegalArgumentException(key + ": '" + raw + "' is not a duration; " + allowed);
    }
    if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          key + ": " + d.toMillis() + " ms is out of range; " + allowed);
    }
  }

  private static String hoconString(Config hocon, String key) {
    try {
      return switch (hocon.getValue(key).valueType()) {
        case LIST -> String.join(",", hocon.getStringList(key));
        default -> hocon.getString(key);
      };
    } catch (ConfigException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage());
    }
  }

  private static List<String> split(String value) {
    List<String> out = new ArrayList<>();
    for (String part : value.split(",", -1)) {
      String p = part.trim();
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return out;
  }

  private static Set<String> roles(Source s) {
    Set<String> roles = new TreeSet<>();
    for (String r : split(s.value())) {
      if (!KNOWN_ROLES.contains(r)) {
        throw new IllegalArgumentException(
            s.name()
                + ": unknown role '"
                + r
                + "'; allowed: "
                + String.join(",", new TreeSet<>(KNOWN_ROLES)));
      }
      roles.add(r);
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException(
          s.name()
              + ": no role; allowed: one or more of "
              + String.join(",", new TreeSet<>(KNOWN_ROLES)));
    }
    return roles;
  }

  private static List<String> seedNodes(Source s) {
    List<String> seeds = new ArrayList<>();
    for (String seed : split(s.value())) {
      int colon = seed.lastIndexOf(':');
      String host = colon < 0 ? "" : seed.substring(0, colon);
      String port = colon < 0 ? "" : seed.substring(colon + 1);
      int p;
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (!HOST.matcher(host).matches() || p < 1 || p > 65535) {
        throw new IllegalArgumentException(
            s.name()
                + ": '"
                + seed
                + "' is not a seed node; allowed: host:port with a port from 1 to 65535, comma"
                + " separated (127.0.0.1:25520,127.0.0.1:25521)");
      }
      seeds.add(host + ":" + p);
    }
    return seeds;
  }

  private static int port(Source s) {
    int p;
    try {
      p = Integer.parseInt(s.value().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          s.name() + ": '" + s.value() + "' is not a port; allowed 0 (a free one) to 65535");
    }
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException(
          s.name() + ": " + p + " is out of range; allowed 0 (a free one) to 65535");
    }
    return p;
  }
}
