package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RunCommandTest {
  private static final String SMALL =
      "identical:vms=3,pages=256,image-distinct=1,ws=256,read=1.0,locality=uniform,"
          + "accesses=40000,seed=5";

  @Test
  void readOnlyWorkload_onTheDefaultActorMesh_legacyLosesTheSaving_fixedAndStrictKeepAll() {
    CliRun r = CliRun.of("run", "--workload", SMALL, "--progress", "off", "--check-invariants");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("mmumesh run: identical:vms=3")
        .containsPattern("legacy\\[[q0-9,]*\\] +120,000 +0 ")
        .containsPattern("fixed\\[[q0-9,]*\\] +120,000 +0 .* 100\\.0% +512\\s")
        .containsPattern("strict\\[\\] +120,000 +0 .* 100\\.0% +512\\s")
        .contains("invariant checks passed");
    String legacyRow =
        r.out().lines().filter(l -> l.startsWith("legacy[")).findFirst().orElseThrow();
    assertThat(legacyRow).doesNotContain("100.0%");
  }

  @Test
  void progressOn_withoutATerminal_printsQuarterLines() {
    CliRun r =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            SMALL,
            "--policy",
            "fixed",
            "--progress",
            "on");
    assertThat(r.exit()).isZero();
    assertThat(r.err()).contains("100% (120,000/120,000 accesses)");
  }

  @Test
  void badInput_isReportedWithTheFieldAndNothingRuns() {
    CliRun r = CliRun.of("run", "--workload", "identical:vms=0", "--progress", "off");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("vms").contains("allowed");
    assertThat(r.out()).doesNotContain("mmumesh run:");
    assertThat(CliRun.of("run", "--policy", "fast").err())
        .contains("policy: 'fast' is not a policy; allowed: legacy, fixed, strict");
    assertThat(
            CliRun.of("run", "--workload", "uniform:vms=1,pages=64,mmu=64", "--host", "32").err())
        .contains("a 64-bit guest cannot run on a 32-bit host");
    assertThat(CliRun.of("run", "--engine", "warp").err())
        .contains("--engine: 'warp' is not an engine; allowed: sequential, actors");
    assertThat(CliRun.of("run", "--ksm-sleep-ms", "0").err())
        .contains("ksmSleepMillisecs: 0 is out of range; allowed 1 to 60000");
    assertThat(CliRun.of("run", "--workload", "lackey:path=/nonexistent/trace").err())
        .contains("/nonexistent/trace");
  }

  @Test
  void series_writesTheKsmTimeSeriesAsCsv_andCostsChangeSimulatedTime(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path csv = dir.resolve("s.csv");
    CliRun cheap =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            SMALL,
            "--policy",
            "legacy",
            "--progress",
            "off",
            "--series",
            csv.toString());
    assertThat(cheap.exit()).as(cheap.err()).isZero();
    java.util.List<String> lines = java.nio.file.Files.readAllLines(csv);
    assertThat(lines.get(0)).startsWith("policy,sim_ms,pages_shared,pages_sharing");
    assertThat(lines).hasSizeGreaterThan(2);
    assertThat(lines.get(1)).startsWith("legacy,0.000,256,512,");
    CliRun dear =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            SMALL,
            "--policy",
            "legacy",
            "--progress",
            "off",
            "--cost",
            "exit=100000");
    assertThat(simMs(dear.out())).isGreaterThan(10 * simMs(cheap.out()));
    assertThat(CliRun.of("run", "--cost", "warp=3").err())
        .contains("cost: 'warp' is not a cost; allowed: tlb, htab, exit");
    assertThat(CliRun.of("run", "--cost", "exit=-1").err())
        .contains("exitNs: -1 is out of range; allowed 0 to 1000000000");
  }

  private static double simMs(String out) {
    String row = out.lines().filter(l -> l.startsWith("legacy[")).findFirst().orElseThrow();
    return Double.parseDouble(row.trim().split(" +")[3]);
  }

  @Test
  void details_printsEveryCounterPerPolicy() {
    CliRun r =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            SMALL,
            "--policy",
            "legacy,strict",
            "--progress",
            "off",
            "--details");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .containsPattern("counter +legacy +strict")
        .containsPattern("spurious_c +[1-9][0-9,]* +0\\s")
        .containsPattern("host.cow_ksm +[1-9][0-9,]* +0\\s")
        .contains("host.hostmmu_notifier_range_flushes")
        .contains("reflected_dsi");
  }

  @Test
  void actorsEngine_runsTheWorkloadOnTheMesh_withTheSameAccessesAndStoresAsSequential() {
    String w = "uniform:vms=2,vcpus=1,pages=64,read=0.7,accesses=2000,seed=4";
    CliRun mesh =
        CliRun.of(
            "run",
            "--engine",
            "actors",
            "--workload",
            w,
            "--policy",
            "strict",
            "--progress",
            "off");
    assertThat(mesh.exit()).as(mesh.err()).isZero();
    assertThat(mesh.out())
        .contains("engine actors (single-node cluster, KSM in lockstep)")
        .containsPattern("strict\\[\\] +4,000 +0 ");
    CliRun seq =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            w,
            "--policy",
            "strict",
            "--progress",
            "off");
    assertThat(seq.exit()).as(seq.err()).isZero();
    // The same table row (accesses, failed, simulated time, exits, maps, C bits, KSM columns).
    assertThat(rowOf(mesh.out(), "strict[]")).isEqualTo(rowOf(seq.out(), "strict[]"));
  }

  @Test
  void helpWorkloads_describesTheSyntax() {
    CliRun r = CliRun.of("run", "--help-workloads");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("identical").contains("lackey").contains("uniform");
  }

  @Test
  void savedPercent_isNaAndExplained_inTheTableAndTheHtml_whenNothingWasMergedBeforeTheRun(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    // uniform: zeroed guests, no image, so KSM has merged nothing before the guests run.
    java.nio.file.Path html = dir.resolve("r.html");
    CliRun zero =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            "uniform:vms=2,pages=64,accesses=300,seed=5",
            "--policy",
            "strict",
            "--progress",
            "off",
            "--html",
            html.toString());
    assertThat(zero.exit()).as(zero.err()).isZero();
    String[] cells = rowOf(zero.out(), "strict[]").split(" {2,}");
    assertThat(cells).hasSize(RunReport.HEADER.length);
    assertThat(cells[13]).isEqualTo("n/a");
    assertThat(zero.out())
        .contains("n/a: KSM had merged nothing before the guests ran")
        .doesNotContain("NaN");
    String page = java.nio.file.Files.readString(html);
    assertThat(page)
        .contains("<td class=\"pct na\">n/a</td>")
        .contains("n/a: KSM had merged nothing before the guests ran")
        .doesNotContain("NaN");

    // identical guests: merged before the run, so a percentage and no footnote.
    CliRun merged =
        CliRun.of("run", "--engine", "sequential", "--workload", SMALL, "--progress", "off");
    assertThat(merged.exit()).as(merged.err()).isZero();
    assertThat(rowOf(merged.out(), "strict[]").split(" {2,}")[13]).matches("\\d+\\.\\d%");
    assertThat(merged.out()).doesNotContain("n/a");
  }

  private static String rowOf(String out, String label) {
    return out.lines()
        .filter(l -> l.startsWith(label))
        .findFirst()
        .orElse("<no row " + label + ">");
  }
}
