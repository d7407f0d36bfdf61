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
            "1",
            "--first-vm",
            "1",
            "--progress",
            "off");
    assertThat(legacy.exit()).as(legacy.err()).isZero();
    assertThat(legacy.out())
        .containsPattern("KSM after 2 passes: pages_sharing [1-9]")
        .contains("vm 1: accesses 3,000  failed 0")
        .contains("vm 2: accesses 3,000  failed 0")
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
            "2",
            "--first-vm",
            "11",
            "--progress",
            "off");
    assertThat(strict.exit()).as(strict.err()).isZero();
    assertThat(strict.out()).contains("vm 12: accesses 3,000  failed 0").contains("cow_ksm) 0");

    CliRun hosts = CliRun.of("client", "--target", target, "hosts");
    assertThat(hosts.out()).contains("host 1").contains("host 2").contains("[11, 12]");
    CliRun stats = CliRun.of("client", "--target", target, "stats", "--vm", "11");
    assertThat(stats.exit()).isZero();
    assertThat(stats.out())
        .contains("vm 11  policy POLICY_STRICT")
        .containsIgnoringCase("accesses");
  }

  @Test
  void errors_areStatusesOrFieldMessages_neverStackTraces() {
    CliRun unknown = CliRun.of("client", "--target", target, "stats", "--vm", "999");
    assertThat(unknown.exit()).isEqualTo(3);
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
