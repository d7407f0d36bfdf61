package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.NodeSettings.Setting;

/** A node process's settings: precedence option > environment > HOCON > default, and bad input. */
class NodeSettingsTest {
  private static final Map<Setting, String> NO_OPTIONS = Map.of();
  private static final Map<String, String> NO_ENV = Map.of();

  private static Map<Setting, String> options(Object... kv) {
    Map<Setting, String> m = new EnumMap<>(Setting.class);
    for (int i = 0; i < kv.length; i += 2) {
      m.put((Setting) kv[i], (String) kv[i + 1]);
    }
    return m;
  }

  @Test
  void defaults_areTheEmbeddedSingleNode_onLoopback_withTheGateway() {
    NodeSettings s = NodeSettings.resolve(NO_OPTIONS, NO_ENV, ConfigFactory.empty());
    assertThat(s.embedded()).isTrue();
    assertThat(s.roles()).containsExactlyInAnyOrder("frames", "mmu", "vcpu", "gateway");
    assertThat(s.hostname()).isEqualTo("127.0.0.1");
    assertThat(s.port()).isZero();
    assertThat(s.grpcPort()).isEqualTo(50051);
    assertThat(s.metricsPort()).isEqualTo(9464);
    assertThat(s.managementPort()).isEqualTo(7626);
    Config c = s.config();
    assertThat(c.getString("pekko.remote.artery.canonical.hostname")).isEqualTo("127.0.0.1");
    assertThat(c.getString("pekko.management.http.hostname")).isEqualTo("127.0.0.1");
    assertThat(c.getStringList("pekko.cluster.seed-nodes")).isEmpty();
  }

  @Test
  void optionBeatsEnvironment_environmentBeatsHocon_hoconBeatsDefault() {
    Config hocon =
        ConfigFactory.parseString(
            "mmumesh.mesh { roles = [mmu], seed-nodes = [\"h1:1\"], grpc-port = 3,"
                + " metrics-port = 4, management-port = 5, port = 6, hostname = hocon.local }");
    Map<String, String> env =
        Map.of(
            "MMUMESH_ROLES", "vcpu,gateway",
            "MMUMESH_SEED_NODES", "h2:2",
            "MMUMESH_GRPC_PORT", "30",
            "MMUMESH_PORT", "60");
    Map<Setting, String> opts = options(Setting.ROLES, "frames", Setting.GRPC_PORT, "300");

    NodeSettings s = NodeSettings.resolve(opts, env, hocon);

    assertThat(s.roles()).as("option").containsExactly("frames");
    assertThat(s.grpcPort()).as("option over env and HOCON").isEqualTo(300);
    assertThat(s.seedNodes()).as("env over HOCON").containsExactly("h2:2");
    assertThat(s.port()).as("env over HOCON").isEqualTo(60);
    assertThat(s.metricsPort()).as("HOCON over default").isEqualTo(4);
    assertThat(s.managementPort()).as("HOCON over default").isEqualTo(5);
    assertThat(s.hostname()).as("HOCON").isEqualTo("hocon.local");
    assertThat(s.config().getStringList("pekko.cluster.seed-nodes"))
        .containsExactly("pekko://mmumesh-mesh@h2:2");
    assertThat(s.config().getStringList("pekko.cluster.roles")).containsExactly("frames");
    assertThat(s.config().getInt("pekko.remote.artery.canonical.port")).isEqualTo(60);
    assertThat(s.config().getInt("pekko.management.http.port")).isEqualTo(5);
  }

  @Test
  void seedNodes_makeAClusterMember_withExactlyTheGivenRoles() {
    NodeSettings s =
        NodeSettings.resolve(
            options(Setting.ROLES, "mmu", Setting.SEED_NODES, "127.0.0.1:2551, [::1]:2552"),
            NO_ENV,
            ConfigFactory.empty());
    assertThat(s.embedded()).isFalse();
    assertThat(s.gateway()).isFalse();
    assertThat(s.roles()).isEqualTo(Set.of("mmu"));
    assertThat(s.seedNodes()).containsExactly("127.0.0.1:2551", "[::1]:2552");
  }

  @Test
  void unknownRole_isRefused_namingWhereItCameFrom() {
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    options(Setting.ROLES, "mmu,disk"), NO_ENV, ConfigFactory.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--roles: unknown role 'disk'; allowed: frames,gateway,mmu,vcpu");
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    NO_OPTIONS, Map.of("MMUMESH_ROLES", "gpu"), ConfigFactory.empty()))
        .hasMessageStartingWith("MMUMESH_ROLES: unknown role 'gpu'");
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    NO_OPTIONS, NO_ENV, ConfigFactory.parseString("mmumesh.mesh.roles = [x]")))
        .hasMessageStartingWith("mmumesh.mesh.roles: unknown role 'x'");
  }

  @Test
  void noRole_isRefused() {
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(options(Setting.ROLES, " , "), NO_ENV, ConfigFactory.empty()))
        .hasMessageStartingWith("--roles: no role; allowed");
  }

  @Test
  void malformedSeedNode_isRefused_namingIt() {
    for (String bad :
        List.of("localhost", "h:0", "h:65536", "h:x", ":25520", "a b:1", "pekko://s@h:1")) {
      assertThatThrownBy(
              () ->
                  NodeSettings.resolve(
                      options(Setting.ROLES, "mmu", Setting.SEED_NODES, "h:1," + bad),
                      NO_ENV,
                      ConfigFactory.empty()))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(
              "--seed-nodes: '" + bad + "' is not a seed node; allowed: host:port");
    }
  }

  @Test
  void portOutOfRangeOrNotANumber_isRefused_namingTheOption() {
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    options(Setting.GRPC_PORT, "70000"), NO_ENV, ConfigFactory.empty()))
        .hasMessage("--grpc-port: 70000 is out of range; allowed 0 (a free one) to 65535");
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    NO_OPTIONS, Map.of("MMUMESH_MANAGEMENT_PORT", "http"), ConfigFactory.empty()))
        .hasMessage(
            "MMUMESH_MANAGEMENT_PORT: 'http' is not a port; allowed 0 (a free one) to 65535");
  }

  @Test
  void badHostname_isRefused() {
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    options(Setting.HOSTNAME, "a host"), NO_ENV, ConfigFactory.empty()))
        .hasMessageStartingWith("--hostname: 'a host' is not a hostname");
  }

  @Test
  void embeddedNode_withoutEveryEntityRole_isRefused_namingTheRoles() {
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    options(Setting.ROLES, "frames,gateway"), NO_ENV, ConfigFactory.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "--roles: frames,gateway on a node without seed nodes (the embedded single-node"
                + " cluster) leaves entities without a node; required: frames,mmu,vcpu");
  }

  @Test
  void portInUse_isFoundBeforeAnythingStarts_namingTheOption() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      NodeSettings s =
          NodeSettings.resolve(
              options(
                  Setting.ROLES, "mmu",
                  Setting.SEED_NODES, "127.0.0.1:1",
                  Setting.MANAGEMENT_PORT, String.valueOf(taken.getLocalPort())),
              NO_ENV,
              ConfigFactory.empty());
      assertThatThrownBy(() -> s.checkPortsFree(true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(
              "--management-port: 127.0.0.1:" + taken.getLocalPort() + " cannot be bound");
      s.checkPortsFree(false); // management off: the taken port is not this node's
    }
  }

  @Test
  void samePortTwice_isRefused() {
    NodeSettings s =
        NodeSettings.resolve(
            options(Setting.PORT, "45678", Setting.MANAGEMENT_PORT, "45678"),
            NO_ENV,
            ConfigFactory.empty());
    assertThatThrownBy(() -> s.checkPortsFree(true))
        .hasMessage("--management-port: 45678 is also --port; allowed: a port of its own, or 0");
  }
}
