package org.mmumesh.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

class FmtAndScaleTest {

  @Test
  void si_writesThreeSignificantDigitsWithSuffixes() {
    assertThat(Fmt.si(0)).isEqualTo("0");
    assertThat(Fmt.si(7)).isEqualTo("7");
    assertThat(Fmt.si(2.5)).isEqualTo("2.5");
    assertThat(Fmt.si(999)).isEqualTo("999");
    assertThat(Fmt.si(1000)).isEqualTo("1k");
    assertThat(Fmt.si(1250)).isEqualTo("1.25k");
    assertThat(Fmt.si(12_500)).isEqualTo("12.5k");
    assertThat(Fmt.si(250_000)).isEqualTo("250k");
    assertThat(Fmt.si(999_999)).isEqualTo("1M");
    assertThat(Fmt.si(1_800_107)).isEqualTo("1.8M");
    assertThat(Fmt.si(7.5e9)).isEqualTo("7.5G");
    assertThat(Fmt.si(3e12)).isEqualTo("3T");
    assertThat(Fmt.si(Long.MAX_VALUE)).isEqualTo("9.22E");
    assertThat(Fmt.si(-2500)).isEqualTo("-2.5k");
    assertThat(Fmt.si(0.001)).isEqualTo("1.0e-03");
  }

  @Test
  void grouped_usesCommasWhateverTheDefaultLocale() {
    assertThat(Fmt.grouped(1_600_000L)).isEqualTo("1,600,000");
    assertThat(Fmt.grouped(9529.6)).isEqualTo("9,530");
    assertThat(Fmt.fixed(5684.64, 1)).isEqualTo("5,684.6");
  }

  @Test
  void nice_roundsTheDomainToStepsOfOneTwoTwoAndAHalfOrFive() {
    LinearScale s = LinearScale.nice(0, 12_288, 300, 0, 5, true);
    assertThat(s.step()).isEqualTo(2500);
    assertThat(s.ticks()).containsExactly(0.0, 2500.0, 5000.0, 7500.0, 10_000.0, 12_500.0);
    assertThat(s.map(0)).isEqualTo(300);
    assertThat(s.map(12_500)).isEqualTo(0);
    assertThat(LinearScale.nice(0, 5684.6, 0, 100, 8, false).ticks())
        .containsExactly(0.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0);
  }

  @Test
  void nice_handlesZeroExtentSmallCountsNegativesAndHugeValues() {
    assertThat(LinearScale.nice(0, 0, 0, 100, 5, false).ticks()).first().isEqualTo(0.0);
    assertThat(LinearScale.nice(0, 0, 0, 100, 5, false).domainMax()).isEqualTo(1.0);
    LinearScale counts = LinearScale.nice(0, 3, 0, 100, 5, true);
    assertThat(counts.step()).isEqualTo(1);
    assertThat(counts.ticks()).containsExactly(0.0, 1.0, 2.0, 3.0);
    LinearScale neg = LinearScale.nice(-120, 480, 0, 100, 5, true);
    assertThat(neg.domainMin()).isLessThanOrEqualTo(-120);
    assertThat(neg.ticks()).contains(0.0);
    LinearScale huge = LinearScale.nice(0, 4.2e15, 0, 100, 5, true);
    assertThat(huge.ticks().stream().map(Fmt::si).toList())
        .containsExactly("0", "1P", "2P", "3P", "4P", "5P");
    LinearScale m = LinearScale.nice(0, 1_800_107, 0, 100, 5, true);
    assertThat(m.ticks().stream().map(Fmt::si).toList())
        .isEqualTo(List.of("0", "500k", "1M", "1.5M", "2M"));
    assertThatThrownBy(() -> LinearScale.nice(0, 1, 0, 1, 0, false))
        .hasMessageContaining("targetTicks: 0 is out of range");
  }

  @Property
  void nice_coversTheDataAndMapsMonotonically(
      @ForAll @DoubleRange(min = -1e12, max = 0) double lo,
      @ForAll @DoubleRange(min = 0, max = 1e12) double hi,
      @ForAll @DoubleRange(min = 0, max = 1) double f1,
      @ForAll @DoubleRange(min = 0, max = 1) double f2) {
    LinearScale s = LinearScale.nice(lo, hi, 400, 50, 5, false);
    assertThat(s.domainMin()).isLessThanOrEqualTo(lo);
    assertThat(s.domainMax()).isGreaterThanOrEqualTo(hi);
    assertThat(s.ticks()).hasSizeBetween(2, 12);
    double a = lo + (hi - lo) * Math.min(f1, f2);
    double b = lo + (hi - lo) * Math.max(f1, f2);
    assertThat(s.map(a)).isGreaterThanOrEqualTo(s.map(b));
    assertThat(s.map(a)).isBetween(50.0 - 1e-6, 400.0 + 1e-6);
  }

  @Test
  void escape_replacesMarkupQuotesAndControlCharacters() {
    assertThat(Html.escape("<b a=\"1\" c='2'>&</b>"))
        .isEqualTo("&lt;b a=&quot;1&quot; c=&#39;2&#39;&gt;&amp;&lt;/b&gt;");
    assertThat(Html.escape(null)).isEmpty();
    assertThat(Html.escape("a\u0000b\u001bc\td\n")).isEqualTo("a\uFFFDb\uFFFDc\td\n");
    assertThat(Html.escape("x\uD800y")).isEqualTo("x\uFFFDy");
    assertThat(Html.escape("\uD83D\uDE00")).isEqualTo("\uD83D\uDE00");
    assertThat(Html.escape("&amp;")).isEqualTo("&amp;amp;");
  }
}
