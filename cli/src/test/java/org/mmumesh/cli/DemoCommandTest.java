package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmumesh.common.Counter;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.report.ChromiumRenderTest;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * {@code mmumesh demo} and the gRPC lockstep client under it: a run driven from outside through the
 * gateway ends with exactly the sequential engine's numbers.
 */
class DemoCommandTest {
  /** Identical guests merged by a warm-up pass, reads and stores breaking merges, KSM running. */
  private static final String TINY =
      "identical:vms=2,vcpus=1,pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=2001,seed=";

  /** The mesh differential test's setup: a fast ksmd, samples every 50 us. */
  private static EngineConfig config(Policy p) {
    return EngineConfig.defaults(MmuOptions.defaults(p))
        .withKsm(100, 1, 1)
        .withSampleInterval(50_000)
        .withSidToggle(EngineConfig.SidToggleScope.PER_VM);
  }

  @ParameterizedTest(name = "{0} mmu={1}")
  @CsvSource({"LEGACY, 64", "FIXED, 64", "STRICT, 64", "LEGACY, 32", "STRICT, 32"})
  void lockstepOverGrpc_endsWithTheSequentialEnginesNumbers(Policy policy, int mmu) {
    assertLockstepOverGrpcEqualsTheEngine(TINY + (mmu + policy.ordinal()) + ",mmu=" + mmu, policy);
  }

  /**
   * Several vCPUs per VM (issue 11 item 5): the client runs each VM's vCPUs one after another in a
   * round, as the {@code LockstepSchedule} says and the engine does, so it ends with the engine's
   * numbers too (before, a VM's vCPUs ran their batches at once and interleaved at random).
   */
  @ParameterizedTest(name = "vms={0} vcpus={1} {2}")
  @CsvSource({"2, 2, LEGACY", "3, 3, STRICT"})
  void lockstepOverGrpc_withSeveralVcpusPerVm_endsWithTheSequentialEnginesNumbers(
      int vms, int vcpus, Policy policy) {
    assertLockstepOverGrpcEqualsTheEngine(
        "identical:vms="
            + vms
            + ",vcpus="
            + vcpus
            + ",pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=1201,seed="
            + (40 + vcpus),
        policy);
  }

  private static void assertLockstepOverGrpcEqualsTheEngine(String text, Policy policy) {
    WorkloadSpec spec = WorkloadParser.parse(text);
    EngineConfig cfg = config(policy);
    RunResult ref = new SequentialEngine(spec, cfg).run(null);
    assertThat(ref.failures()).isEmpty();
    assertThat(ref.samples()).hasSizeGreaterThan(3);

    RunResult got;
    List<Long> progress = new ArrayList<>();
    try (GatewayMain.Running gw = GatewayMain.start(GatewayMain.Settings.defaults())) {
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", gw.port()).usePlaintext().build();
      try {
        got = new LockstepClient(ch, WorkloadParser.parse(text), cfg, 0).run(progress::add);
      } finally {
        ch.shutdownNow();
      }
    }
    assertThat(got.failures()).isEmpty();
    assertThat(progress)
        .isSorted()
        .last()
        .isEqualTo(ref.totals().toMap().get(Counter.ACCESSES))
        .isEqualTo(spec.vms() * spec.vcpusPerVm() * (text.startsWith(TINY) ? 2001L : 1201L));
    for (int vm = 0; vm < spec.vms(); vm++) {
      assertThat(got.perVm().get(vm).toMap())
          .as("vm %d stats", vm)
          .isEqualTo(ref.perVm().get(vm).toMap());
    }
    assertThat(got.totals().toMap()).isEqualTo(ref.totals().toMap());
    assertThat(got.simNanos()).isEqualTo(ref.simNanos());
    assertThat(got.samples()).as("the KSM series").isEqualTo(ref.samples());
    for (String k : got.host().keySet()) {
      assertThat(got.host(k)).as("host counter %s", k).isEqualTo(ref.host(k));
    }
    assertThat(ref.host("ksm_full_scans")).as("KSM passes after the warm-up one").isGreaterThan(1);
    if (policy == Policy.LEGACY) {
      assertThat(got.host("cow_ksm")).as("legacy unshares merged pages").isPositive();
    }
  }

  @Test
  void demo_printsTheSequentialEnginesTable_forEveryPolicy_andWritesTheReport(@TempDir Path dir)
      throws Exception {
    String workload = TINY + "7";
    Path html = dir.resolve("demo.html");
    Path csv = dir.resolve("series.csv");
    CliRun demo =
        CliRun.of(
            "demo",
            "--workload",
            workload,
            "--ksm-pages-to-scan",
            "100",
            "--ksm-sleep-ms",
            "1",
            "--html",
            html.toString(),
            "--series",
            csv.toString(),
            "--progress",
            "off");
    assertThat(demo.exit()).as(demo.err()).isZero();
    CliRun run =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            workload,
            "--ksm-pages-to-scan",
            "100",
            "--ksm-sleep-ms",
            "1",
            "--progress",
            "off");
    assertThat(run.exit()).as(run.err()).isZero();
    List<String> table = tableRows(demo.out());
    assertThat(table).hasSize(3);
    assertThat(table.get(0)).startsWith("legacy");
    assertThat(table.get(1)).startsWith("fixed");
    assertThat(table.get(2)).startsWith("strict");
    assertThat(table).as("the same numbers as `run`").isEqualTo(tableRows(run.out()));
    assertThat(demo.out()).contains("HTML report written to " + html);
    String page = Files.readString(html);
    assertThat(page).contains("<svg").contains("legacy").contains("strict");
    // the report in headless Chromium: its charts drawn as the numbers say (the sequential
    // engine's runs, which the tables above showed equal to the demo's)
    List<RunResult> same = new ArrayList<>();
    for (Policy p : List.of(Policy.LEGACY, Policy.FIXED, Policy.STRICT)) {
      EngineConfig c =
          EngineConfig.defaults(MmuOptions.defaults(p))
              .withKsm(100, 1, 2)
              .withSampleInterval(5_000_000L);
      same.add(new SequentialEngine(WorkloadParser.parse(workload), c).run(null));
    }
    ChromiumRenderTest.assertRenders(
        dir, RunHtml.toReport(WorkloadParser.parse(workload).name(), "", same), html);
    assertThat(Files.readAllLines(csv)).hasSizeGreaterThan(6);
  }

  @Test
  void demo_badOptions_areNamed_andNothingStarts() {
    CliRun r = CliRun.of("demo", "--host", "48", "--progress", "off");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("--host: 48").doesNotContain("Exception");
    CliRun j = CliRun.of("demo", "--jobs", "0", "--progress", "off");
    assertThat(j.exit()).isNotZero();
    assertThat(j.err()).contains("--jobs: 0 is out of range; allowed 1 to 16");
    CliRun p = CliRun.of("demo", "--policy", "lax", "--progress", "off");
    assertThat(p.exit()).isNotZero();
    assertThat(p.err()).contains("lax").doesNotContain("at org.");
  }

  /** The comparison table's policy rows. */
  private static List<String> tableRows(String out) {
    List<String> rows = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.matches("^(legacy|fixed|strict)\\S*\\s+[0-9,]+\\s.*")) {
        rows.add(line.strip());
      }
    }
    return rows;
  }

  @Test
  void aGatewayBudgetTooSmallForTheWorkload_isOneLineNamingTheHeap_exitThree(@TempDir Path dir) {
    CliRun r =
        CliRun.of(
            "demo",
            "--policy",
            "strict",
            "--progress",
            "off",
            "--memory-budget",
            "64k",
            "--workload",
            TINY + "1",
            "--html",
            dir.resolve("r.html").toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
    assertThat(r.err())
        .contains("mmumesh: out of memory: the embedded gateway's memory budget")
        .contains("cannot hold the workload: memory budget: ")
        .contains("-Xmx ")
        .contains("MMUMESH_JAVA_OPTS=-Xmx")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(r.err().lines()).hasSize(2);
    assertThat(dir.resolve("r.html")).doesNotExist();
  }
}
