package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.mesh.NodeSettings;

/**
 * {@code deploy/container/Dockerfile} (issue 12 item 5) against the distribution archive that
 * {@code mvn package} built (no Docker engine runs here): the archive it adds exists, every file it
 * runs is in the archive and executable, its environment names are the node's and its ports are
 * what the node resolves from that environment; and {@code deploy/local/cluster} of the unpacked
 * archive finds the archive's own {@code bin/mmumesh}.
 */
class ContainerImageIT {
  private static final Path ROOT = LocalClusterScript.ROOT;
  private static final Path DOCKERFILE = ROOT.resolve("deploy/container/Dockerfile");
  private static final Pattern VAR = Pattern.compile("\\$\\{(\\w+)}");

  private record Instruction(String op, String args) {}

  /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
  private static List<Instruction> instructions() throws Exception {
    List<Instruction> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : Files.readAllLines(DOCKERFILE)) {
      if (line.strip().startsWith("#") || (cur.isEmpty() && line.isBlank())) {
        continue;
      }
      if (line.endsWith("\\")) {
        cur.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      cur.append(line);
      String s = cur.toString().strip();
      cur.setLength(0);
      int sp = s.indexOf(' ');
      out.add(new Instruction(s.substring(0, sp), s.substring(sp + 1).strip()));
    }
    return out;
  }

  private static List<String> args(List<Instruction> all, String op) {
    return all.stream().filter(i -> i.op().equals(op)).map(Instruction::args).toList();
  }

  /** The archive's entries (tar -tvzf): path to mode string. */
  private static Map<String, String> archive(Path tgz) throws Exception {
    Process p = new ProcessBuilder("tar", "-tvzf", tgz.toString()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    Map<String, String> entries = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 6) {
        entries.put(f[f.length - 1].replaceAll("/$", ""), f[0]);
      }
    }
    return entries;
  }

  /** Key=value pairs (values optionally double-quoted) of ENV and ARG lines. */
  private static Map<String, String> pairs(List<String> lines) {
    Map<String, String> m = new LinkedHashMap<>();
    Matcher kv = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)").matcher(String.join(" ", lines));
    while (kv.find()) {
      m.put(kv.group(1), kv.group(2).replaceAll("^\"|\"$", ""));
    }
    return m;
  }

  private static String expand(String s, Map<String, String> vars) {
    Matcher m = VAR.matcher(s);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      assertThat(vars).as("${%s} in %s", m.group(1), s).containsKey(m.group(1));
      m.appendReplacement(b, Matcher.quoteReplacement(vars.get(m.group(1))));
    }
    return m.appendTail(b).toString();
  }

  @Test
  void dockerfile_namesTheDistributionsFiles_andTheNodesPortsAndVariables() throws Exception {
    Path dist = Path.of(System.getProperty("mmumesh.dist"));
    String version = System.getProperty("mmumesh.version");
    List<Instruction> all = instructions();

    assertThat(args(all, "FROM")).containsExactly("eclipse-temurin:17-jre");
    Map<String, String> argDefaults = pairs(args(all, "ARG"));
    assertThat(argDefaults).containsEntry("VERSION", version);

    // ADD <the archive> /opt/: the archive mvn package built, unpacked to /opt/mmumesh-<version>
    List<String> adds = args(all, "ADD");
    assertThat(adds).hasSize(1);
    String[] add = expand(adds.get(0), argDefaults).split("\\s+");
    assertThat(ROOT.resolve(add[0]).normalize()).isEqualTo(dist.normalize());
    assertThat(add[1]).isEqualTo("/opt/");
    Map<String, String> entries = archive(dist);
    String top = "mmumesh-" + version;
    assertThat(entries).containsKey(top + "/bin/mmumesh");
    String home = expand("/opt/mmumesh-${VERSION}", argDefaults);
    assertThat(args(all, "RUN"))
        .anyMatch(r -> r.contains("ln -s /opt/mmumesh-${VERSION} /opt/mmumesh"));
    assertThat(args(all, "WORKDIR")).containsExactly("/opt/mmumesh");

    // every /opt/mmumesh/... the image runs is an executable of the archive
    String healthcheck = args(all, "HEALTHCHECK").get(0);
    String entrypoint = args(all, "ENTRYPOINT").get(0);
    Set<String> used = new TreeSet<>();
    Matcher m = Pattern.compile("/opt/mmumesh/([\\w./-]+)").matcher(healthcheck + " " + entrypoint);
    while (m.find()) {
      used.add(m.group(1));
    }
    assertThat(used).contains("bin/mmumesh", "deploy/http-status");
    for (String f : used) {
      assertThat(entries).as(home + "/" + f).containsKey(top + "/" + f);
      assertThat(entries.get(top + "/" + f)).as(f + " is executable").startsWith("-rwx");
    }
    assertThat(entrypoint).isEqualTo("[\"/opt/mmumesh/bin/mmumesh\", \"node\"]");
    assertThat(healthcheck).contains("/alive").contains("$MMUMESH_MANAGEMENT_PORT");

    // a non-root user that the image creates
    List<String> users = args(all, "USER");
    assertThat(users).hasSize(1).doesNotContain("root", "0");
    assertThat(args(all, "RUN")).anyMatch(r -> r.contains("useradd") && r.contains(users.get(0)));

    // ENV: the node's own variables; EXPOSE: exactly the ports the node resolves from them
    Map<String, String> env = pairs(args(all, "ENV"));
    Set<String> known = new HashSet<>(Set.of("MMUMESH_JAVA_OPTS"));
    for (NodeSettings.Setting s : NodeSettings.Setting.values()) {
      known.add(s.env);
    }
    assertThat(env.keySet()).isSubsetOf(known);
    NodeSettings node = NodeSettings.resolve(Map.of(), env, ConfigFactory.empty());
    NodeSettings defaults = NodeSettings.resolve(Map.of(), Map.of(), ConfigFactory.empty());
    assertThat(node.port()).as("Artery fixed: a container publishes known ports").isPositive();
    assertThat(node.grpcPort()).isEqualTo(defaults.grpcPort());
    assertThat(node.metricsPort()).isEqualTo(defaults.metricsPort());
    assertThat(node.managementPort()).isEqualTo(defaults.managementPort());
    Set<Integer> exposed = new TreeSet<>();
    for (String e : args(all, "EXPOSE")) {
      for (String p : e.split("\\s+")) {
        exposed.add(Integer.parseInt(p));
      }
    }
    assertThat(exposed)
        .containsExactlyInAnyOrder(
            node.port(), node.grpcPort(), node.metricsPort(), node.managementPort());
    assertThat(node.hostname()).as("loopback unless configured").isEqualTo("127.0.0.1");
  }

  @Test
  void unpackedArchive_localClusterScript_runsTheArchivesLauncher(@TempDir Path dir)
      throws Exception {
    Path dist = Path.of(System.getProperty("mmumesh.dist"));
    String version = System.getProperty("mmumesh.version");
    Process tar = new ProcessBuilder("tar", "-xzf", dist.toString(), "-C", dir.toString()).start();
    assertThat(tar.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).isZero();
    Path script = dir.resolve("mmumesh-" + version + "/deploy/local/cluster");
    assertThat(Files.isExecutable(script)).isTrue();

    // one node, given one second to be ready: the script must have run the archive's launcher
    ProcessBuilder pb =
        new ProcessBuilder(script.toString(), "--run-dir", "run", "start", "1", "--timeout", "1")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out.txt").toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("MMUMESH_"));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    LocalClusterScript cluster = new LocalClusterScript(dir.resolve("run"), script, dir);
    try {
      assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
      String out = Files.readString(dir.resolve("out.txt"));
      assertThat(out).contains("mmumesh 0.1.0, 1 nodes starting");
      assertThat(cluster.pids()).hasSize(1);
      if (p.exitValue() != 0) {
        // not ready within one second (the usual case): named, and stopped
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("node1 (roles gateway,frames,mmu,vcpu) not ready after 1 s");
        assertThat(cluster.pids()).noneMatch(LocalClusterScript::alive);
      } else {
        assertThat(out).contains("1 nodes ready");
      }
    } finally {
      cluster.killAll();
    }
  }
}
