package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.NodeSettings.Setting;

/**
 * A node refuses to join a cluster of another name or another mmumesh version ({@link
 * ClusterIdentity}), before it joins: one line naming both names (or both versions), the seed's
 * cluster unchanged, and nothing of the refused node left running (its Artery port is free again).
 * A node of the same name and version joins.
 */
class ClusterIdentityTest {

  private static NodeSettings node(String roles, int seed, int port, String name, Config extra) {
    Map<Setting, String> o = new EnumMap<>(Setting.class);
    o.put(Setting.ROLES, roles);
    o.put(Setting.SEED_NODES, "127.0.0.1:" + seed);
    o.put(Setting.PORT, String.valueOf(port));
    o.put(Setting.CLUSTER_NAME, name);
    return NodeSettings.resolve(o, Map.of(), extra);
  }

  private static void assertPortFree(int port) {
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              try (ServerSocket again = new ServerSocket()) {
                again.bind(new InetSocketAddress("127.0.0.1", port));
              }
            });
  }

  @Test
  void joinerOfAnotherClusterOrVersion_isRefusedNamingBoth_andOneOfTheSameJoins()
      throws IOException {
    int seed = NodeManagementTest.freePort();
    try (MeshCluster alpha =
        MeshCluster.node(
            node("frames,mmu,vcpu", seed, seed, "alpha", ConfigFactory.empty()), false)) {
      int betaPort = NodeManagementTest.freePort();
      NodeSettings beta = node("mmu", seed, betaPort, "beta", ConfigFactory.empty());
      assertThatThrownBy(() -> MeshCluster.node(beta, false).close())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "--cluster-name: this node's cluster is 'beta' but the seed node 127.0.0.1:"
                  + seed
                  + " belongs to the cluster 'alpha'; give every node of one cluster the same"
                  + " --cluster-name (MMUMESH_CLUSTER_NAME, mmumesh.mesh.cluster-name), or point"
                  + " --seed-nodes at this cluster's seed nodes");
      assertPortFree(betaPort);

      int oldPort = NodeManagementTest.freePort();
      NodeSettings old =
          node(
              "mmu",
              seed,
              oldPort,
              "alpha",
              ConfigFactory.parseMap(Map.of(ClusterIdentity.VERSION_KEY, "0.0.1-old")));
      assertThatThrownBy(() -> MeshCluster.node(old, false).close())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(
              "--seed-nodes: this node runs mmumesh 0.0.1-old but the seed node 127.0.0.1:"
                  + seed
                  + " of cluster 'alpha' runs mmumesh "
                  + ClusterIdentity.BUILD_VERSION
                  + "; every node of a cluster must run the same version");
      assertPortFree(oldPort);
      assertThat(ClusterIdentity.BUILD_VERSION).isNotEqualTo("unknown");

      // the identity messages cross nodes as Jackson CBOR, never Java serialization
      org.apache.pekko.serialization.Serialization ser =
          org.apache.pekko.serialization.SerializationExtension.get(alpha.classicSystem(0));
      for (Object msg :
          new Object[] {
            new ClusterIdentity.Identity("alpha", "1.2.3"), new ClusterIdentity.Query("node")
          }) {
        org.apache.pekko.serialization.Serializer s = ser.findSerializerFor(msg);
        assertThat(s.getClass().getSimpleName()).isEqualTo("JacksonCborSerializer");
        assertThat(
                ser.deserialize(ser.serialize(msg).get(), s.identifier(), msg.getClass().getName())
                    .get())
            .isEqualTo(msg);
      }

      Cluster seedView = Cluster.get(alpha.classicSystem(0));
      assertThat(seedView.state().getMembers()).hasSize(1);
      try (MeshCluster same =
          MeshCluster.node(
              node("mmu", seed, NodeManagementTest.freePort(), "alpha", ConfigFactory.empty()),
              false)) {
        Address joined = same.address(0);
        assertThat(Cluster.get(same.classicSystem(0)).selfMember().appVersion().toString())
            .isEqualTo(ClusterIdentity.BUILD_VERSION);
        await()
            .atMost(Duration.ofSeconds(60))
            .untilAsserted(
                () ->
                    assertThat(seedView.state().getMembers())
                        .extracting(Member::address)
                        .contains(joined));
      }
    }
  }

  @Test
  void clusterName_isValidated_namingWhereItCameFrom() {
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    Map.of(Setting.CLUSTER_NAME, "my cluster"), Map.of(), ConfigFactory.empty()))
        .hasMessageStartingWith(
            "--cluster-name: 'my cluster' is not a cluster name; allowed: 1 to 63");
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    Map.of(), Map.of("MMUMESH_CLUSTER_NAME", "-x"), ConfigFactory.empty()))
        .hasMessageStartingWith("MMUMESH_CLUSTER_NAME: '-x' is not a cluster name");
    assertThat(
            NodeSettings.resolve(Map.of(), Map.of(), ConfigFactory.empty())
                .config()
                .getString(Setting.CLUSTER_NAME.key))
        .isEqualTo("mmumesh");
  }

  @Test
  void verdict_matchingIdentity_isEmpty() {
    Address seed = new Address("pekko", MeshEngine.SYSTEM_NAME, "10.0.0.1", 25520);
    ClusterIdentity.Identity own = new ClusterIdentity.Identity("c", "1.0");
    assertThat(ClusterIdentity.verdict(seed, own, new ClusterIdentity.Identity("c", "1.0")))
        .isEmpty();
    assertThat(ClusterIdentity.verdict(seed, own, new ClusterIdentity.Identity("c", "1.1")))
        .get()
        .asString()
        .contains("seed node 10.0.0.1:25520 of cluster 'c' runs mmumesh 1.1");
  }
}
