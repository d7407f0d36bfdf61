package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.NodeSettings.Setting;

/**
 * One node process's node in this JVM ({@link MeshCluster#node}) with Pekko Management: {@code
 * /alive}, {@code /ready} with the mesh's own check ({@link MeshReadiness}) and {@code
 * /cluster/members}.
 */
class NodeManagementTest {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static HttpResponse<String> get(int port, String path) {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static NodeSettings settings(String roles, String seeds, int port, int management) {
    Map<Setting, String> o = new EnumMap<>(Setting.class);
    o.put(Setting.ROLES, roles);
    if (seeds != null) {
      o.put(Setting.SEED_NODES, seeds);
    }
    o.put(Setting.PORT, String.valueOf(port));
    o.put(Setting.MANAGEMENT_PORT, String.valueOf(management));
    return NodeSettings.resolve(o, Map.of(), ConfigFactory.empty());
  }

  @Test
  void embeddedNode_isAliveAndReady_andListsItselfUp() throws IOException {
    int mgmt = freePort();
    try (MeshCluster node = MeshCluster.node(settings("frames,mmu,vcpu", null, 0, mgmt), true)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(get(mgmt, "/ready").statusCode()).isEqualTo(200));
      assertThat(get(mgmt, "/alive").statusCode()).isEqualTo(200);
      assertThat(node.managementPort()).isEqualTo(mgmt);
      HttpResponse<String> members = get(mgmt, "/cluster/members");
      assertThat(members.statusCode()).isEqualTo(200);
      assertThat(members.body())
          .contains("\"node\":\"" + node.address(0) + "\"")
          .contains("\"status\":\"Up\"")
          .contains("\"gateway\"");
    }
  }

  @Test
  void clusterWithoutSomeEntityRole_isAliveButNotReady_namingTheMissingRoles() throws IOException {
    int port = freePort();
    int mgmt = freePort();
    // the node is its own seed: a one-node cluster holding only the page frames
    try (MeshCluster node =
        MeshCluster.node(settings("frames", "127.0.0.1:" + port, port, mgmt), true)) {
      assertThat(node.roles(0)).containsExactly("frames");
      assertThat(get(mgmt, "/alive").statusCode()).isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                HttpResponse<String> ready = get(mgmt, "/ready");
                assertThat(ready.statusCode()).isEqualTo(500);
                assertThat(ready.body())
                    .contains(
                        "no Up member has the role mmu,vcpu: those entities have no node to run"
                            + " on; start a node with --roles mmu,vcpu");
              });
    }
  }

  @Test
  void managementPortTaken_isRefused_andTheNodeIsShutDown() throws IOException {
    int port = freePort();
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      NodeSettings s = settings("frames,mmu,vcpu", null, port, taken.getLocalPort());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> MeshCluster.node(s, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(
              "--management-port: management cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
    // nothing half-started: the node's Artery port is free again
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              try (ServerSocket again = new ServerSocket()) {
                again.bind(new java.net.InetSocketAddress("127.0.0.1", port));
              }
            });
  }
}
