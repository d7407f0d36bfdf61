package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.mesh.MeshCluster;
import org.mmumesh.mesh.NodeSettings;
import org.mmumesh.mesh.NodeSettings.Setting;

/**
 * Artery over TLS (Pekko's {@code tls-tcp} transport, configured with exactly the keys the README's
 * deployment section gives): two mmumesh nodes in this JVM, each with a PKCS#12 key store made from
 * a certificate signed by the test CA and a trust store holding that CA, form one cluster; a third
 * node whose certificate another CA signed is refused (mutual authentication is Pekko's default),
 * and says so as a seed-node join failure.
 */
class ArteryTlsTest {
  private static final String PASSWORD = "test-only";

  @TempDir Path dir;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Config tls(Path keyStore, Path trustStore) {
    return ConfigFactory.parseMap(
        Map.of(
            "pekko.remote.artery.transport",
            "tls-tcp",
            "pekko.remote.artery.ssl.config-ssl-engine.key-store",
            keyStore.toString(),
            "pekko.remote.artery.ssl.config-ssl-engine.key-store-password",
            PASSWORD,
            "pekko.remote.artery.ssl.config-ssl-engine.key-password",
            PASSWORD,
            "pekko.remote.artery.ssl.config-ssl-engine.trust-store",
            trustStore.toString(),
            "pekko.remote.artery.ssl.config-ssl-engine.trust-store-password",
            PASSWORD,
            "mmumesh.mesh.startup-timeout",
            "15s"));
  }

  private static NodeSettings node(String roles, int seed, int port, Config tls) {
    Map<Setting, String> o = new EnumMap<>(Setting.class);
    o.put(Setting.ROLES, roles);
    o.put(Setting.SEED_NODES, "127.0.0.1:" + seed);
    o.put(Setting.PORT, String.valueOf(port));
    return NodeSettings.resolve(o, Map.of(), tls);
  }

  @Test
  void twoNodesWithTheCasCertificates_formOneCluster_aStrangerIsRefused() throws IOException {
    TestCertificates certs = TestCertificates.make(dir.resolve("certs"));
    Path trust = TestCertificates.trustStore(certs.ca(), dir.resolve("trust.p12"), PASSWORD);
    Path nodeKeys =
        certs.keyStore(certs.serverCert(), certs.serverKey(), dir.resolve("node.p12"), PASSWORD);
    Path strangerKeys =
        certs.keyStore(
            certs.strangerCert(), certs.strangerKey(), dir.resolve("stranger.p12"), PASSWORD);
    int seed = freePort();
    try (MeshCluster first =
            MeshCluster.node(node("frames,mmu,vcpu", seed, seed, tls(nodeKeys, trust)), false);
        MeshCluster second =
            MeshCluster.node(node("mmu", seed, freePort(), tls(nodeKeys, trust)), false)) {
      assertThat(
              first.classicSystem(0).settings().config().getString("pekko.remote.artery.transport"))
          .isEqualTo("tls-tcp");
      Cluster seen = Cluster.get(second.classicSystem(0));
      // the node has joined when node() returns, but may still be Joining: wait for Up (the
      // leader moves it on its next gossip round, later on a loaded machine)
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> seen.selfMember().status() == MemberStatus.up());
      assertThat(seen.state().getMembers())
          .as("the second node Up sees both members")
          .extracting(Member::address)
          .contains(first.address(0), second.address(0));

      NodeSettings stranger = node("vcpu", seed, freePort(), tls(strangerKeys, trust));
      assertThatThrownBy(() -> MeshCluster.node(stranger, false).close())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("--seed-nodes: no seed node let this node join within 15 s");
      assertThat(Cluster.get(first.classicSystem(0)).state().getMembers())
          .extracting(Member::address)
          .hasSize(2);
    }
  }
}
