package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.MeshEngine;
import org.mmumesh.mesh.NodeSettings;
import org.yaml.snakeyaml.Yaml;

/**
 * The Kubernetes manifests under {@code deploy/k8s/} (issue 12 item 6), parsed with a YAML library
 * and checked against the application: each StatefulSet's environment and the ConfigMap's HOCON go
 * through the node's own settings resolution ({@link NodeSettings#resolve}), and the container
 * ports, the probes, the Services and the seed nodes must agree with what it resolves.
 */
class KubernetesManifestsTest {
  private static final Path K8S = LocalClusterScript.ROOT.resolve("deploy/k8s");

  private static final List<Map<String, Object>> DOCS = new ArrayList<>();

  @BeforeAll
  static void parse() throws IOException {
    try (Stream<Path> files = Files.list(K8S)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Yaml().loadAll(Files.readString(f))) {
          if (doc != null) {
            assertThat(doc).as(f.toString()).isInstanceOf(Map.class);
            DOCS.add(map(doc));
          }
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  /** The value at a dotted path of maps. */
  private static Object at(Map<String, Object> doc, String path) {
    Object o = doc;
    for (String k : path.split("\\.")) {
      assertThat(o).as(path).isInstanceOf(Map.class);
      o = map(o).get(k);
      assertThat(o).as("%s in %s %s", path, doc.get("kind"), doc.get("metadata")).isNotNull();
    }
    return o;
  }

  private static String name(Map<String, Object> doc) {
    return String.valueOf(map(doc.get("metadata")).get("name"));
  }

  private static List<Map<String, Object>> kind(String kind) {
    return DOCS.stream().filter(d -> kind.equals(d.get("kind"))).toList();
  }

  private static Map<String, Object> headless() {
    List<Map<String, Object>> h =
        kind("Service").stream()
            .filter(s -> "None".equals(map(at(s, "spec")).get("clusterIP")))
            .toList();
    assertThat(h).as("one headless Service").hasSize(1);
    return h.get(0);
  }

  private static Config hocon() {
    List<Map<String, Object>> cms = kind("ConfigMap");
    assertThat(cms).hasSize(1);
    return ConfigFactory.parseString((String) map(at(cms.get(0), "data")).get("application.conf"));
  }

  private static Map<String, Object> container(Map<String, Object> sts) {
    List<Object> cs = list(at(sts, "spec.template.spec.containers"));
    assertThat(cs).hasSize(1);
    return map(cs.get(0));
  }

  /** The container's environment, {@code $(POD_NAME)} replaced by the StatefulSet's pod 0. */
  private static Map<String, String> env(Map<String, Object> sts) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container(sts).get("env"))) {
      Map<String, Object> v = map(e);
      if (v.get("value") != null) {
        env.put((String) v.get("name"), (String) v.get("value"));
      } else {
        assertThat(at(v, "valueFrom.fieldRef.fieldPath")).isEqualTo("metadata.name");
        env.put((String) v.get("name"), name(sts) + "-0");
      }
    }
    env.replaceAll((k, v) -> v.replace("$(POD_NAME)", name(sts) + "-0"));
    return env;
  }

  /** The node that pod 0 of {@code sts} is, resolved as the node process resolves itself. */
  private static NodeSettings settings(Map<String, Object> sts) {
    return NodeSettings.resolve(Map.of(), env(sts), hocon());
  }

  private static Map<String, Integer> ports(Map<String, Object> sts) {
    Map<String, Integer> ports = new HashMap<>();
    for (Object p : list(container(sts).get("ports"))) {
      Map<String, Object> m = map(p);
      assertThat(ports.put((String) m.get("name"), (Integer) m.get("containerPort"))).isNull();
    }
    return ports;
  }

  private static boolean selects(Map<String, Object> selector, Map<String, Object> sts) {
    Map<String, Object> labels = map(at(sts, "spec.template.metadata.labels"));
    return labels.entrySet().containsAll(selector.entrySet());
  }

  @Test
  void everyManifest_isAKubernetesObject_ofTheExpectedKinds() {
    assertThat(DOCS).allSatisfy(d -> assertThat(d).containsKeys("apiVersion", "kind", "metadata"));
    assertThat(kind("StatefulSet")).hasSize(3);
    assertThat(kind("Service")).hasSize(2);
    assertThat(kind("PodDisruptionBudget")).hasSize(1);
    assertThat(kind("ConfigMap")).hasSize(1);
    assertThat(DOCS.stream().map(d -> d.get("kind") + "/" + name(d)).distinct().count())
        .isEqualTo(DOCS.size());
  }

  @Test
  void configMapHocon_parses_andNamesOnlyKeysTheNodeHas() {
    Config defaults = MeshEngine.config(ConfigFactory.empty());
    Config cm = hocon();
    assertThat(cm.entrySet()).isNotEmpty();
    for (var e : cm.entrySet()) {
      assertThat(defaults.hasPath(e.getKey()))
          .as("ConfigMap key %s is one the node reads (a typo would be ignored)", e.getKey())
          .isTrue();
    }
    // the node mounts it and reads it: -Dconfig.file names the mounted application.conf
    for (Map<String, Object> sts : kind("StatefulSet")) {
      String opts = env(sts).get("MMUMESH_JAVA_OPTS");
      Map<String, Object> mount = map(list(container(sts).get("volumeMounts")).get(0));
      assertThat(opts).contains("-Dconfig.file=" + mount.get("mountPath") + "/application.conf");
      Map<String, Object> volume =
          list(at(sts, "spec.template.spec.volumes")).stream()
              .map(KubernetesManifestsTest::map)
              .filter(v -> v.get("name").equals(mount.get("name")))
              .findFirst()
              .orElseThrow();
      assertThat(at(volume, "configMap.name")).isEqualTo(name(kind("ConfigMap").get(0)));
    }
  }

  @Test
  void statefulSets_coverEveryRole_withPortsProbesAndResourcesTheNodeUses() {
    Set<String> envNames = new HashSet<>(Set.of("MMUMESH_JAVA_OPTS", "POD_NAME"));
    Arrays.stream(NodeSettings.Setting.values()).forEach(s -> envNames.add(s.env));
    Set<String> roles = new TreeSet<>();
    for (Map<String, Object> sts : kind("StatefulSet")) {
      String what = name(sts);
      assertThat(env(sts).keySet()).as(what).isSubsetOf(envNames);
      NodeSettings node = settings(sts);
      assertThat(node.embedded()).as(what + " joins seed nodes").isFalse();
      assertThat(node.roles())
          .as(what)
          .containsExactlyInAnyOrder(env(sts).get("MMUMESH_ROLES").split(","));
      roles.addAll(node.roles());
      assertThat(node.hostname())
          .as("%s advertises its pod's DNS name under the headless Service", what)
          .isEqualTo(what + "-0." + name(headless()));
      assertThat(at(sts, "spec.serviceName")).isEqualTo(name(headless()));
      assertThat(selects(map(at(sts, "spec.selector.matchLabels")), sts)).as(what).isTrue();

      Map<String, Integer> ports = ports(sts);
      assertThat(ports.get("artery")).as(what).isEqualTo(node.port()).isPositive();
      assertThat(ports.get("management")).as(what).isEqualTo(node.managementPort());
      if (node.gateway()) {
        assertThat(ports.get("grpc")).as(what).isEqualTo(node.grpcPort());
        assertThat(ports.get("metrics")).as(what).isEqualTo(node.metricsPort());
      } else {
        assertThat(ports).as(what).doesNotContainKeys("grpc", "metrics");
      }
      Map<String, Object> c = container(sts);
      assertThat(at(c, "readinessProbe.httpGet.path")).isEqualTo("/ready");
      assertThat(at(c, "readinessProbe.httpGet.port")).isEqualTo("management");
      assertThat(at(c, "livenessProbe.httpGet.path")).isEqualTo("/alive");
      assertThat(at(c, "livenessProbe.httpGet.port")).isEqualTo("management");
      assertThat(at(c, "resources.requests.cpu")).isNotNull();
      assertThat(at(c, "resources.requests.memory")).isEqualTo(at(c, "resources.limits.memory"));
      assertThat(at(sts, "spec.template.spec.securityContext.runAsNonRoot")).isEqualTo(true);
    }
    assertThat(roles).containsAll(NodeSettings.KNOWN_ROLES);
  }

  @Test
  void seedNodes_arePodDnsNamesOfTheStatefulSets_atTheirArteryPorts() {
    Map<String, Map<String, Object>> bySts = new LinkedHashMap<>();
    kind("StatefulSet").forEach(s -> bySts.put(name(s), s));
    for (Map<String, Object> sts : bySts.values()) {
      List<String> seeds = settings(sts).seedNodes();
      assertThat(seeds).as(name(sts)).isNotEmpty();
      for (String seed : seeds) {
        String host = seed.substring(0, seed.lastIndexOf(':'));
        int port = Integer.parseInt(seed.substring(seed.lastIndexOf(':') + 1));
        String[] parts = host.split("\\.");
        assertThat(parts).as(seed).hasSize(2);
        assertThat(parts[1]).as(seed + ": the headless Service").isEqualTo(name(headless()));
        String pod = parts[0];
        String set = pod.substring(0, pod.lastIndexOf('-'));
        int ordinal = Integer.parseInt(pod.substring(pod.lastIndexOf('-') + 1));
        assertThat(bySts).as(seed + ": a StatefulSet's pod").containsKey(set);
        assertThat(ordinal).as(seed).isLessThan((Integer) at(bySts.get(set), "spec.replicas"));
        assertThat(port)
            .as(seed + ": that pod's Artery port")
            .isEqualTo(settings(bySts.get(set)).port());
      }
    }
    // the first seed, which forms the cluster, is the same for every node
    assertThat(bySts.values().stream().map(s -> settings(s).seedNodes().get(0)).distinct())
        .hasSize(1);
  }

  @Test
  void services_andDisruptionBudget_selectTheNodes_onTheirNamedPorts() {
    Map<String, Object> svc = headless();
    assertThat(at(svc, "spec.publishNotReadyAddresses"))
        .as("a node resolves its own name before it is ready")
        .isEqualTo(true);
    List<Map<String, Object>> sets = kind("StatefulSet");
    for (Map<String, Object> s : kind("Service")) {
      Map<String, Object> selector = map(at(s, "spec.selector"));
      List<Map<String, Object>> selected = sets.stream().filter(t -> selects(selector, t)).toList();
      assertThat(selected).as(name(s)).isNotEmpty();
      for (Object p : list(at(s, "spec.ports"))) {
        Map<String, Object> port = map(p);
        for (Map<String, Object> t : selected) {
          assertThat(ports(t))
              .as("%s port %s on %s", name(s), port.get("targetPort"), name(t))
              .containsEntry((String) port.get("targetPort"), (Integer) port.get("port"));
        }
      }
    }
    assertThat(sets)
        .allSatisfy(t -> assertThat(selects(map(at(svc, "spec.selector")), t)).isTrue());
    Map<String, Object> grpc =
        kind("Service").stream().filter(s -> s != svc).findFirst().orElseThrow();
    assertThat(sets.stream().filter(t -> selects(map(at(grpc, "spec.selector")), t)))
        .as("the gRPC Service selects exactly the gateway nodes")
        .allSatisfy(t -> assertThat(settings(t).gateway()).isTrue())
        .hasSize((int) sets.stream().filter(t -> settings(t).gateway()).count());

    Map<String, Object> pdb = kind("PodDisruptionBudget").get(0);
    assertThat(at(pdb, "spec.maxUnavailable")).isEqualTo(1);
    assertThat(sets)
        .allSatisfy(
            t -> assertThat(selects(map(at(pdb, "spec.selector.matchLabels")), t)).isTrue());
  }
}
