package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.mesh.MeshCluster;
import org.mmumesh.mesh.NodeSettings;
import org.mmumesh.mesh.NodeSettings.Setting;
import org.yaml.snakeyaml.Yaml;

/**
 * Bad input at join (issue 12, "Bad input"), as a node process meets it: a node of another cluster
 * name, or of another mmumesh version, is refused before it joins with one line naming both names
 * (both versions), exit 2, nothing left bound; and a malformed value in the Kubernetes ConfigMap's
 * HOCON ({@code deploy/k8s/configmap.yaml}, one value corrupted) is refused at startup naming the
 * key and what is allowed.
 */
class NodeJoinRefusalTest {

  @TempDir Path dir;

  private static void assertFree(int port) throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
    }
  }

  /** Runs {@code mmumesh node} in a child JVM until it exits; returns its exit code and lines. */
  private static Exit node(List<String> jvm, List<String> args, int port, int mgmt)
      throws Exception {
    try (NodeProcess p = NodeProcess.start(jvm, args, Map.of(), port, mgmt)) {
      assertThat(p.process.waitFor(180, TimeUnit.SECONDS)).as(p.output()).isTrue();
      String out = p.outputAfterExit();
      return new Exit(
          p.process.exitValue(), out.lines().filter(l -> l.startsWith("mmumesh")).toList(), out);
    }
  }

  private record Exit(int code, List<String> mine, String all) {}

  @Test
  void nodeOfAnotherClusterOrVersion_exits2_namingBoth_andBindsNothing() throws Exception {
    int seed = NodeProcess.freePort();
    Map<Setting, String> o = new EnumMap<>(Setting.class);
    o.put(Setting.ROLES, "frames,mmu,vcpu");
    o.put(Setting.SEED_NODES, "127.0.0.1:" + seed);
    o.put(Setting.PORT, "" + seed);
    o.put(Setting.CLUSTER_NAME, "alpha");
    try (MeshCluster alpha =
        MeshCluster.node(NodeSettings.resolve(o, Map.of(), ConfigFactory.empty()), false)) {
      int port = NodeProcess.freePort();
      int mgmt = NodeProcess.freePort();
      List<String> joinAlpha =
          List.of(
              "--roles",
              "vcpu",
              "--seed-nodes",
              "127.0.0.1:" + seed,
              "--port",
              "" + port,
              "--management-port",
              "" + mgmt);
      List<String> beta = new java.util.ArrayList<>(joinAlpha);
      beta.addAll(List.of("--cluster-name", "beta"));
      Exit named = node(List.of(), beta, port, mgmt);
      assertThat(named.code()).as(named.all()).isEqualTo(2);
      assertThat(named.mine())
          .containsExactly(
              "mmumesh: --cluster-name: this node's cluster is 'beta' but the seed node 127.0.0.1:"
                  + seed
                  + " belongs to the cluster 'alpha'; give every node of one cluster the same"
                  + " --cluster-name (MMUMESH_CLUSTER_NAME, mmumesh.mesh.cluster-name), or point"
                  + " --seed-nodes at this cluster's seed nodes");
      assertFree(port);
      assertFree(mgmt);

      List<String> alphaOld = new java.util.ArrayList<>(joinAlpha);
      alphaOld.addAll(List.of("--cluster-name", "alpha"));
      Exit version = node(List.of("-Dmmumesh.mesh.version=0.0.1-old"), alphaOld, port, mgmt);
      assertThat(version.code()).as(version.all()).isEqualTo(2);
      assertThat(version.mine())
          .singleElement()
          .asString()
          .startsWith(
              "mmumesh: --seed-nodes: this node runs mmumesh 0.0.1-old but the seed node"
                  + " 127.0.0.1:"
                  + seed
                  + " of cluster 'alpha' runs mmumesh "
                  + org.mmumesh.mesh.ClusterIdentity.BUILD_VERSION);
      assertFree(port);
      assertFree(mgmt);
      assertThat(org.apache.pekko.cluster.Cluster.get(alpha.classicSystem(0)).state().getMembers())
          .as("the seed's cluster is unchanged")
          .hasSize(1);
    }
  }

  /** The ConfigMap's HOCON, as the pods read it (-Dconfig.file). */
  private static String configMapHocon() throws IOException {
    String yaml = Files.readString(LocalClusterScript.ROOT.resolve("deploy/k8s/configmap.yaml"));
    Map<String, Object> cm = new Yaml().load(yaml);
    @SuppressWarnings("unchecked")
    Map<String, Object> data = (Map<String, Object>) cm.get("data");
    return (String) data.get("application.conf");
  }

  /** The ConfigMap's HOCON with {@code mmumesh.mesh.<key> = value} set (appended: it wins). */
  private static Config corrupted(String key, String value) throws IOException {
    return ConfigFactory.parseString(configMapHocon() + "\nmmumesh.mesh." + key + " = " + value);
  }

  @Test
  void configMapWithAMalformedValue_isRefusedNamingTheKeyAndTheAllowedRange() throws Exception {
    Config ok = ConfigFactory.parseString(configMapHocon());
    assertThat(NodeSettings.resolve(Map.of(), Map.of(), ok).seedNodes()).hasSize(3);
    assertThatThrownBy(() -> NodeSettings.resolve(Map.of(), Map.of(), corrupted("port", "abc")))
        .hasMessage("mmumesh.mesh.port: 'abc' is not a port; allowed 0 (a free one) to 65535");
    assertThatThrownBy(
            () -> NodeSettings.resolve(Map.of(), Map.of(), corrupted("roles", "[frames, disk]")))
        .hasMessage("mmumesh.mesh.roles: unknown role 'disk'; allowed: frames,gateway,mmu,vcpu");
    assertThatThrownBy(
            () ->
                NodeSettings.resolve(
                    Map.of(), Map.of(), corrupted("seed-nodes", "[\"mmumesh-gateway-0.mmumesh\"]")))
        .hasMessageStartingWith(
            "mmumesh.mesh.seed-nodes: 'mmumesh-gateway-0.mmumesh' is not a seed node");
    assertThatThrownBy(
            () -> NodeSettings.resolve(Map.of(), Map.of(), corrupted("startup-timeout", "soon")))
        .hasMessageStartingWith("mmumesh.mesh.startup-timeout: 'soon' is not a duration");
    assertThatThrownBy(
            () -> NodeSettings.resolve(Map.of(), Map.of(), corrupted("grpc-port", "70000")))
        .hasMessage(
            "mmumesh.mesh.grpc-port: 70000 is out of range; allowed 0 (a free one) to 65535");

    // the process: the pods' way (-Dconfig.file), one line, exit 2, nothing bound
    Path conf = dir.resolve("application.conf");
    Files.writeString(conf, configMapHocon() + "\nmmumesh.mesh.port = \"abc\"\n");
    int mgmt = NodeProcess.freePort();
    Exit bad =
        node(
            List.of("-Dconfig.file=" + conf),
            List.of("--roles", "mmu", "--management-port", "" + mgmt),
            0,
            mgmt);
    assertThat(bad.code()).as(bad.all()).isEqualTo(2);
    assertThat(bad.mine())
        .containsExactly(
            "mmumesh: mmumesh.mesh.port: 'abc' is not a port; allowed 0 (a free one) to 65535");
    assertFree(mgmt);
  }
}
