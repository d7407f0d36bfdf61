package org.mmumesh.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** saved % is "n/a", explained, when KSM had merged nothing before the guests ran. */
class SavedPercentTest {
  private static Summary summary(double savedPercent) {
    return new Summary(1000, 0, 1.5, 10, 2, 0, 0, 0, 0, 0, 40, 30, savedPercent, 20);
  }

  private static PolicyReport policy(String name, double savedPercent) {
    return new PolicyReport(
        name,
        List.of(),
        summary(savedPercent),
        Samples.series(4, 100, 50, 10),
        new CBitAccuracy(10, 10, 0, 0));
  }

  @Test
  void summary_textIsNaForNaN_andAPercentageOtherwise_infinityRefused() {
    assertThat(summary(Double.NaN).savedPercentText()).isEqualTo("n/a");
    assertThat(summary(Double.NaN).hasSavedPercent()).isFalse();
    assertThat(summary(77.25).savedPercentText()).isEqualTo("77.3%");
    assertThatThrownBy(() -> summary(Double.POSITIVE_INFINITY))
        .hasMessageContaining("savedPercent");
  }

  @Test
  void table_showsNaWithoutAMeter_forThePolicyThatMergedNothingFirst() {
    String html =
        ComparisonTable.render(List.of(policy("legacy", 12.5), policy("uniform", Double.NaN)));
    assertThat(html).contains("<td class=\"pct na\">n/a</td>");
    assertThat(html).contains("12.5%</td>").doesNotContain("NaN");
    // one meter: the defined row's
    assertThat(html.split("class=\"meter\"", -1)).hasSize(2);
  }

  @Test
  void page_explainsNa_onlyWhenARowIsNa_andTheCardSaysNothingWasMerged() {
    String na =
        HtmlReport.render(
            new ReportData(
                "t", "uniform:vms=1", "", List.of(policy("a", 50.0), policy("b", Double.NaN))));
    assertThat(na).contains(Summary.NOT_APPLICABLE_NOTE);
    assertThat(na).contains("<div class=\"big\">n/a</div>");
    assertThat(na).contains("nothing was merged before the guests ran");
    assertThat(na).doesNotContain("NaN");
    String all =
        HtmlReport.render(new ReportData("t", "identical:vms=2", "", List.of(policy("a", 50.0))));
    assertThat(all).doesNotContain(Summary.NOT_APPLICABLE_NOTE).contains(">50.0%</div>");
  }
}
