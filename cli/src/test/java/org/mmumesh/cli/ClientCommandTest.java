package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.gateway.GatewayMain;

/** {@code mmumesh client ...} against a real gateway on a loopback port. */
class ClientCommandTest {
  private static final String TINY =
      "identical:vms=2,vcpus=1,pages=64,mmu=64,seed=3,ws=64,read=1.0,accesses=3000";
  private static GatewayMain.Running server;
  private static String target;

  @BeforeAll
  static void start() {
    server = GatewayMain.start(GatewayMain.Settings.defaults());
    target = "127.0.0.1:" + server.port();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void run_streamsTheWorkload_andLegacyUnsharesMergedPagesWhileStrictDoesNot() {
    CliRun legacy =
        CliRun.of(
            "client",
            "--target",
            target,
            "run",
            "--workload",
            TINY,
            "--policy",
            "legacy",
            "--host-id",
            "901",
            "--first-vm",
            "901",
            "--progress",
            "off");
    assertThat(legacy.exit()).as(legacy.err()).isZero();
    assertThat(legacy.out())
        .containsPattern("KSM after 2 passes: pages_sharing [1-9]")
        .contains("vm 901: accesses 3,000  failed 0")
        .contains("vm 902: accesses 3,000  failed 0")
        .containsPattern("cow_ksm\\) [1-9]");
    CliRun strict =
        CliRun.of(
            "client",
            "--target",
            target,
            "run",
            "--workload",
            TINY,
            "--policy",
            "strict",
            "--host-id",
            "902",
            "--first-vm",
            "911",
            "--progress",
            "off");
    assertThat(strict.exit()).as(strict.err()).isZero();
    assertThat(strict.out()).contains("vm 912: accesses 3,000  failed 0").contains("cow_ksm) 0");

    CliRun hosts = CliRun.of("client", "--target", target, "hosts");
    assertThat(hosts.out()).contains("host 901").contains("host 902").contains("[911, 912]");
    CliRun stats = CliRun.of("client", "--target", target, "stats", "--vm", "911");
    assertThat(stats.exit()).isZero();
    assertThat(stats.out())
        .contains("vm 911  policy POLICY_STRICT")
        .containsIgnoringCase("accesses");
  }

  /** The host and the VMs a {@code client run} reports it created. */
  static java.util.List<Integer> idsOf(CliRun r) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("host (\\d+), VMs (\\d+)\\.\\.(\\d+)").matcher(r.out());
    assertThat(m.find()).as(r.out()).isTrue();
    return java.util.List.of(
        Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
  }

  @Test
  void run_twiceInARowWithoutIds_bothSucceed_onFreeDistinctIds() {
    String[] args = {
      "client",
      "--target",
      target,
      "run",
      "--workload",
      TINY,
      "--policy",
      "legacy",
      "--progress",
      "off"
    };
    CliRun first = CliRun.of(args);
    assertThat(first.exit()).as(first.err()).isZero();
    CliRun second = CliRun.of(args);
    assertThat(second.exit()).as(second.err()).isZero();
    java.util.List<Integer> a = idsOf(first);
    java.util.List<Integer> b = idsOf(second);
    assertThat(b.get(0)).as("another host").isNotEqualTo(a.get(0));
    assertThat(b.get(1)).as("VMs after the first run's").isGreaterThan(a.get(2));
    assertThat(second.out())
        .contains("vm " + b.get(1) + ": accesses 3,000  failed 0")
        .contains("vm " + b.get(2) + ": accesses 3,000  failed 0");
    CliRun hosts = CliRun.of("client", "--target", target, "hosts");
    assertThat(hosts.out()).contains("host " + a.get(0)).contains("host " + b.get(0));
  }

  @Test
  void aClientWhereNoGatewayListens_namesTheTarget_andHowToStartOne() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // free now; closed before the client connects
    }
    String nowhere = "127.0.0.1:" + port;
    CliRun r = CliRun.of("client", "--target", nowhere, "run", "--progress", "off");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err())
        .contains("no gateway answers at " + nowhere)
        .contains("bin/mmumesh serve --port " + port)
        .contains("UNAVAILABLE")
        .doesNotContain("Exception");
    CliRun hosts = CliRun.of("client", "--target", nowhere, "hosts");
    assertThat(hosts.exit()).isEqualTo(3);
    assertThat(hosts.err()).contains("no gateway answers at " + nowhere);
  }

  @Test
  void errors_areStatusesOrFieldMessages_neverStackTraces() {
    CliRun unknown = CliRun.of("client", "--target", target, "stats", "--vm", "999");
    assertThat(unknown.exit()).as("NOT_FOUND: the caller's mistake").isEqualTo(2);
    assertThat(unknown.err()).contains("NOT_FOUND").doesNotContain("Exception");
    CliRun badTarget = CliRun.of("client", "--target", "nowhere", "hosts");
    assertThat(badTarget.exit()).isEqualTo(2);
    assertThat(badTarget.err()).contains("--target: 'nowhere' is not host:port");
    CliRun badPolicy =
        CliRun.of("client", "--target", target, "run", "--policy", "fast", "--progress", "off");
    assertThat(badPolicy.exit()).isEqualTo(2);
    assertThat(badPolicy.err()).contains("policy");
  }
}
