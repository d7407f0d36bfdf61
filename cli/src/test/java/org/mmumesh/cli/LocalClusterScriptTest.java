package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/local/cluster} (issue 12 item 4) run as a process: a real three-node cluster of
 * separate JVMs that it starts, reports, kills a node of and stops; then its failure paths (a node
 * that exits or is never ready) and bad input, with stand-in launchers that start no JVM.
 */
class LocalClusterScriptTest {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Pattern NODE_LINE =
      Pattern.compile(
          "(?m)^  (node\\d+) pid (\\d+) roles (\\S+): management (http://127\\.0\\.0\\.1:\\d+)");
  private static final Pattern TARGET =
      Pattern.compile("(?m)^gateway target: (127\\.0\\.0\\.1:\\d+)");
  private static final String TINY =
      "identical:vms=2,vcpus=1,pages=64,mmu=64,seed=3,ws=64,read=1.0,accesses=3000";

  @TempDir Path tmp;
  private final List<LocalClusterScript> scripts = new ArrayList<>();

  @AfterEach
  void killNodes() throws Exception {
    for (LocalClusterScript s : scripts) {
      s.killAll();
    }
  }

  private LocalClusterScript script(Path launcher) {
    LocalClusterScript s = new LocalClusterScript(tmp.resolve("run"), launcher, tmp);
    scripts.add(s);
    return s;
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private record Node(String name, long pid, String roles, String management) {}

  @Test
  void start_runsThreeJvms_thatServeAWorkload_killAndStatusAndStopLeaveNoJvm() throws Exception {
    LocalClusterScript cluster = script(LocalClusterScript.classPathLauncher(tmp));

    LocalClusterScript.Ran start = cluster.run(10, "start");
    assertThat(start.exit()).as(start.toString()).isZero();
    Map<String, Node> nodes = new LinkedHashMap<>();
    Matcher m = NODE_LINE.matcher(start.out());
    while (m.find()) {
      nodes.put(
          m.group(1), new Node(m.group(1), Long.parseLong(m.group(2)), m.group(3), m.group(4)));
    }
    assertThat(nodes.values())
        .as(start.toString())
        .extracting(Node::roles)
        .containsExactly("gateway,frames", "mmu", "vcpu");
    assertThat(cluster.pids())
        .containsExactlyElementsOf(nodes.values().stream().map(Node::pid).toList());
    Matcher t = TARGET.matcher(start.out());
    assertThat(t.find()).as(start.toString()).isTrue();
    String target = t.group(1);

    // every node ready, and one cluster of the three, seen from each
    for (Node n : nodes.values()) {
      assertThat(LocalClusterScript.alive(n.pid())).as(n.name()).isTrue();
      assertThat(get(n.management() + "/ready").statusCode()).as(n.name()).isEqualTo(200);
      assertThat(get(n.management() + "/alive").statusCode()).as(n.name()).isEqualTo(200);
      String members = get(n.management() + "/cluster/members").body();
      assertThat(members.split("\"status\":\"Up\"", -1)).as(members).hasSize(4);
    }

    // a workload through the printed gateway target
    CliRun run =
        CliRun.of("client", "--target", target, "run", "--workload", TINY, "--progress", "off");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).containsPattern("vm \\d+: accesses 3,000  failed 0");

    LocalClusterScript.Ran status = cluster.run(2, "status");
    assertThat(status.exit()).as(status.toString()).isZero();
    assertThat(status.out())
        .contains(
            "node1 pid " + nodes.get("node1").pid() + " roles gateway,frames: running, /ready 200")
        .contains("node3 pid " + nodes.get("node3").pid() + " roles vcpu: running, /ready 200");

    // a failure drill: SIGKILL of the vCPU node
    LocalClusterScript.Ran kill = cluster.run(2, "kill", "node3");
    assertThat(kill.exit()).as(kill.toString()).isZero();
    assertThat(kill.out()).contains("killed node3 (pid " + nodes.get("node3").pid());
    assertThat(LocalClusterScript.alive(nodes.get("node3").pid())).isFalse();
    LocalClusterScript.Ran after = cluster.run(2, "status");
    assertThat(after.exit()).as(after.toString()).isEqualTo(1);
    assertThat(after.out())
        .contains("node3 pid " + nodes.get("node3").pid() + " roles vcpu: dead")
        .contains("node1 pid " + nodes.get("node1").pid() + " roles gateway,frames: running");
    LocalClusterScript.Ran again = cluster.run(2, "kill", "node3");
    assertThat(again.exit()).as(again.toString()).isEqualTo(1);
    assertThat(again.err()).contains("node3 (pid " + nodes.get("node3").pid() + ") is not running");

    // a start over a running cluster is refused, and changes nothing
    LocalClusterScript.Ran twice = cluster.run(2, "start");
    assertThat(twice.exit()).as(twice.toString()).isEqualTo(2);
    assertThat(twice.err()).contains("a cluster runs in").contains("stop it first");
    assertThat(cluster.pids())
        .containsExactlyElementsOf(nodes.values().stream().map(Node::pid).toList());

    LocalClusterScript.Ran stop = cluster.run(5, "stop");
    assertThat(stop.exit()).as(stop.toString()).isZero();
    assertThat(stop.out()).contains("stopped 2 nodes");
    for (Node n : nodes.values()) {
      assertThat(LocalClusterScript.alive(n.pid())).as(n.name() + " left running").isFalse();
    }
    LocalClusterScript.Ran stopped = cluster.run(2, "status");
    assertThat(stopped.exit()).isEqualTo(1);
    assertThat(stopped.out().lines().filter(l -> l.endsWith(": dead"))).hasSize(3);
  }

  /**
   * Stand-in nodes: {@code --version} answers; {@code node} with a role in {@code failRoles} prints
   * a line and exits 2, any other prints a startup line whose management port nobody serves and
   * sleeps (its command line names mmumesh, as the script's liveness check requires).
   */
  private Path fakeLauncher(String failRoles) throws Exception {
    int nobody = NodeProcess.freePort();
    return LocalClusterScript.script(
        tmp,
        "fake-mmumesh",
        String.join(
            "\n",
            "if [ \"$1\" = --version ]; then echo 'mmumesh 0.1.0'; exit 0; fi",
            "if [[ \"$3\" == *"
                + failRoles
                + "* ]]; then echo '--roles: boom (a test)'; exit 2; fi",
            "echo \"mmumesh node pekko://x@127.0.0.1:1 roles $3; management on http://127.0.0.1:"
                + nobody
                + " (/alive, /ready, /cluster/members); Ctrl-C stops it\"",
            "exec -a mmumesh-fake-node sleep 600"));
  }

  @Test
  void start_namesANodeThatExits_withItsLogTail_andStopsTheOthers() throws Exception {
    LocalClusterScript cluster = script(fakeLauncher("vcpu"));
    LocalClusterScript.Ran start = cluster.run(5, "start", "--timeout", "120");
    assertThat(start.exit()).as(start.toString()).isEqualTo(2);
    assertThat(start.err())
        .contains("node3 (roles vcpu) exited with code 2 before it was ready")
        .contains("last lines of " + tmp.resolve("run/node3.log"))
        .contains("--roles: boom (a test)");
    assertThat(cluster.pids()).hasSize(3).noneMatch(LocalClusterScript::alive);
  }

  @Test
  void start_namesTheNodesNotReadyByTheDeadline_andStopsThem() throws Exception {
    LocalClusterScript cluster = script(fakeLauncher("nothing-fails"));
    LocalClusterScript.Ran start = cluster.run(5, "start", "2", "--timeout", "5");
    assertThat(start.exit()).as(start.toString()).isEqualTo(1);
    assertThat(start.err())
        .contains("node1 (roles gateway,frames) not ready after 5 s: ")
        .contains("node2 (roles mmu,vcpu) not ready after 5 s: ")
        .contains("last lines of " + tmp.resolve("run/node2.log"));
    assertThat(cluster.pids()).hasSize(2).noneMatch(LocalClusterScript::alive);
  }

  /**
   * The cleanup every test relies on: nodes left behind by a script that died mid-start (SIGKILL,
   * so its own trap never ran) are killed by {@link LocalClusterScript#killAll}. A bug found: it
   * used to pick nodes by {@code ProcessHandle.Info#commandLine}, which shows the executable, not
   * {@code argv[0]}, and stops at 4096 characters (before the main class, after a test class path),
   * so it left the node JVMs of a failed test running.
   */
  @Test
  void killAll_killsTheNodesOfAScriptKilledMidStart() throws Exception {
    LocalClusterScript cluster = script(fakeLauncher("nothing-fails"));
    Process p =
        cluster.start(
            tmp.resolve("start.out"), tmp.resolve("start.err"), "start", "2", "--timeout", "600");
    try {
      await()
          .atMost(Duration.ofMinutes(2))
          .until(
              () ->
                  cluster.pids().size() == 2
                      && cluster.pids().stream().allMatch(LocalClusterScript::alive));
    } finally {
      p.destroyForcibly().waitFor();
    }
    List<Long> pids = cluster.pids();
    assertThat(pids).allMatch(LocalClusterScript::alive);
    cluster.killAll();
    assertThat(pids).noneMatch(LocalClusterScript::alive);
  }

  @Test
  void badInput_oneLineNamingTheMistake_exit2_nothingStarted() throws Exception {
    LocalClusterScript cluster = script(tmp.resolve("no-such-launcher"));
    Map<List<String>, String> cases = new LinkedHashMap<>();
    cases.put(List.of("start", "0"), "start: N: '0' is out of range; allowed 1 to 16 nodes");
    cases.put(List.of("start", "x"), "start: N: 'x' is out of range; allowed 1 to 16 nodes");
    cases.put(
        List.of("start", "--roles", "gateway,disk mmu vcpu"),
        "start: --roles: unknown role 'disk'; allowed frames mmu vcpu gateway");
    cases.put(
        List.of("start", "2", "--roles", "gateway,frames mmu vcpu"),
        "start: --roles names 3 nodes but N is 2");
    cases.put(
        List.of("start", "--roles", "gateway,frames mmu"),
        "start: --roles: no node has the role vcpu");
    cases.put(List.of("start", "--timeout", "0"), "start: --timeout: '0' is out of range");
    cases.put(List.of("start"), "the launcher " + tmp.resolve("no-such-launcher"));
    cases.put(List.of("status"), "no cluster in " + tmp.resolve("run"));
    cases.put(List.of("kill"), "kill: give one node name");
    cases.put(
        List.of("frobnicate"), "unknown command 'frobnicate'; allowed start, status, stop, kill");
    for (Map.Entry<List<String>, String> c : cases.entrySet()) {
      LocalClusterScript.Ran r = cluster.run(2, c.getKey().toArray(String[]::new));
      assertThat(r.exit()).as(c.getKey() + "\n" + r).isEqualTo(2);
      assertThat(r.err()).as(c.getKey().toString()).startsWith("cluster: ").contains(c.getValue());
      assertThat(r.err().strip().lines()).as(c.getKey().toString()).hasSize(1);
      assertThat(cluster.pids()).isEmpty();
    }
    LocalClusterScript.Ran help = cluster.run(2, "--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out()).contains("Usage: deploy/local/cluster", "start [N]", "kill NODE");
  }
}
