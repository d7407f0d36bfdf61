package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunHtmlTest {
  private static final String TINY =
      "identical:vms=2,pages=128,image-distinct=1,ws=128,read=0.9,locality=uniform,"
          + "accesses=8000,seed=3";

  @Test
  void html_writesTheReportWithThreeChartsAndEveryPolicy(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("out/report.html");
    CliRun r =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            TINY,
            "--progress",
            "off",
            "--html",
            file.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("HTML report written to " + file).contains("legacy[");
    String html = Files.readString(file);
    assertThat(Pattern.compile("<svg\\b").matcher(html).results().count()).isEqualTo(3);
    assertThat(html)
        .contains("id=\"chart-ksm\"", "id=\"chart-faults\"", "id=\"chart-cbits\"")
        .contains("data-policy=\"legacy\"", "data-policy=\"fixed\"", "data-policy=\"strict\"")
        .contains("identical:vms=2")
        .contains("engine sequential, 64-bit host")
        .doesNotContainIgnoringCase("<script");
    // The table's numbers are the printed table's: 2 VMs x 8,000 accesses under each policy.
    assertThat(Pattern.compile("<td>16,000</td>").matcher(html).results().count()).isEqualTo(3);
  }

  @Test
  void withoutHtml_noFileIsWritten_andTheActorsEngineWritesOneToo(@TempDir Path dir)
      throws Exception {
    CliRun plain =
        CliRun.of(
            "run",
            "--engine",
            "sequential",
            "--workload",
            TINY,
            "--policy",
            "strict",
            "--progress",
            "off");
    assertThat(plain.exit()).isZero();
    assertThat(plain.out()).doesNotContain("HTML report");
    Path file = dir.resolve("r.html");
    CliRun actors =
        CliRun.of("run", "--engine", "actors", "--workload", TINY, "--html", file.toString());
    assertThat(actors.exit()).as(actors.err()).isZero();
    assertThat(java.nio.file.Files.readString(file))
        .contains("engine actors", "id=\"chart-ksm\"", "data-policy=\"strict\"");
  }
}
