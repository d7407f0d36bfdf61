package org.mmumesh.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class SvgStructureTest {

  /** Every {@code <svg>} of the page, parsed as XML (the renderer writes well-formed SVG). */
  static List<Document> svgs(String html) throws Exception {
    List<Document> docs = new ArrayList<>();
    Matcher m = Pattern.compile("<svg[\\s\\S]*?</svg>").matcher(html);
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    while (m.find()) {
      docs.add(
          f.newDocumentBuilder()
              .parse(new ByteArrayInputStream(m.group().getBytes(StandardCharsets.UTF_8))));
    }
    return docs;
  }

  static List<Element> elements(Document d, String tag, String cls) {
    List<Element> out = new ArrayList<>();
    NodeList nl = d.getElementsByTagName(tag);
    for (int i = 0; i < nl.getLength(); i++) {
      Element e = (Element) nl.item(i);
      if (cls == null || List.of(e.getAttribute("class").split(" ")).contains(cls)) {
        out.add(e);
      }
    }
    return out;
  }

  static double[][] points(Element polyline) {
    String[] pts = polyline.getAttribute("points").trim().split(" ");
    double[][] xy = new double[pts.length][];
    for (int i = 0; i < pts.length; i++) {
      String[] c = pts[i].split(",");
      xy[i] = new double[] {Double.parseDouble(c[0]), Double.parseDouble(c[1])};
    }
    return xy;
  }

  @Test
  void page_hasThreeChartsWithTitleAndDesc_andNoScriptsOrExternalResources() throws Exception {
    String html = HtmlReport.render(Samples.three());
    List<Document> svgs = svgs(html);
    assertThat(svgs).hasSize(3);
    assertThat(svgs.stream().map(d -> d.getDocumentElement().getAttribute("id")))
        .containsExactly(LineChart.ID, HtmlReport.FAULTS_ID, HtmlReport.CBITS_ID);
    for (Document d : svgs) {
      assertThat(elements(d, "title", null)).isNotEmpty();
      assertThat(elements(d, "desc", null).get(0).getTextContent()).contains("legacy", "strict");
      assertThat(d.getDocumentElement().getAttribute("role")).isEqualTo("img");
    }
    assertThat(html).doesNotContainIgnoringCase("<script").doesNotContain("src=", "href=", "url(");
    assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", ""))
        .doesNotContain("http://", "https://");
    assertThat(HtmlReport.render(Samples.three())).isEqualTo(html);
  }

  @Test
  void lineChart_hasOnePolylinePerQuantityAndPolicy_withOnePointPerSample() throws Exception {
    ReportData data = Samples.three();
    Document d = svgs(HtmlReport.render(data)).get(0);
    List<Element> sharing = elements(d, "polyline", "sharing");
    List<Element> saved = elements(d, "polyline", "saved");
    assertThat(sharing).hasSize(3);
    assertThat(saved).hasSize(3);
    for (int i = 0; i < 3; i++) {
      PolicyReport p = data.policies().get(i);
      assertThat(sharing.get(i).getAttribute("data-policy")).isEqualTo(p.name());
      assertThat(sharing.get(i).getAttribute("stroke")).isEqualTo(Palette.policy(i));
      assertThat(saved.get(i).getAttribute("stroke-dasharray")).isNotEmpty();
      assertThat(points(sharing.get(i)).length).isEqualTo(p.series().size());
      assertThat(points(saved.get(i)).length).isEqualTo(p.series().size());
    }
  }

  @Test
  void lineChart_mapsLaterTimesRightAndMorePagesUp() throws Exception {
    ReportData data = Samples.three();
    Document d = svgs(HtmlReport.render(data)).get(0);
    PlotArea area = LineChart.layout(data.policies());
    for (Element e : elements(d, "polyline", "line")) {
      double[][] xy = points(e);
      PolicyReport p =
          data.policies().stream()
              .filter(r -> r.name().equals(e.getAttribute("data-policy")))
              .findFirst()
              .orElseThrow();
      boolean saved = e.getAttribute("class").contains("saved");
      for (int i = 1; i < xy.length; i++) {
        assertThat(xy[i][0]).isGreaterThan(xy[i - 1][0]);
        long v0 = value(p.series().get(i - 1), saved);
        long v1 = value(p.series().get(i), saved);
        if (v1 < v0) {
          assertThat(xy[i][1]).isGreaterThanOrEqualTo(xy[i - 1][1]);
        } else if (v1 > v0) {
          assertThat(xy[i][1]).isLessThanOrEqualTo(xy[i - 1][1]);
        }
      }
      for (double[] pt : xy) {
        assertThat(pt[0]).isBetween(area.x(), area.right());
        assertThat(pt[1]).isBetween(area.y(), area.bottom());
      }
    }
    // The first sample (t = 0) sits on the y axis.
    assertThat(points(elements(d, "polyline", "sharing").get(0))[0][0]).isEqualTo(area.x());
  }

  private static long value(SeriesPoint s, boolean saved) {
    return saved ? s.framesSaved() : s.pagesSharing();
  }

  @Test
  void barCharts_havePoliciesTimesKindsBars_withHeightsInValueOrder() throws Exception {
    ReportData data = Samples.three();
    List<Document> svgs = svgs(HtmlReport.render(data));
    for (Document d : svgs.subList(1, 3)) {
      boolean faults = d.getDocumentElement().getAttribute("id").equals(HtmlReport.FAULTS_ID);
      List<String> kinds = faults ? FaultCounts.KINDS : CBitAccuracy.KINDS;
      List<Element> bars = elements(d, "rect", "bar");
      assertThat(bars).hasSize(3 * kinds.size());
      double baseline = BarChart.layout(List.of("legacy", "fixed", "strict")).bottom();
      for (Element a : bars) {
        double ya = Double.parseDouble(a.getAttribute("y"));
        double ha = Double.parseDouble(a.getAttribute("height"));
        assertThat(ya + ha).isCloseTo(baseline, org.assertj.core.data.Offset.offset(0.11));
        int i = List.of("legacy", "fixed", "strict").indexOf(a.getAttribute("data-policy"));
        assertThat(a.getAttribute("fill")).isEqualTo(Palette.policy(i));
        int g = kinds.indexOf(a.getAttribute("data-kind"));
        PolicyReport p = data.policies().get(i);
        long expected = faults ? p.faults().values().get(g) : p.cBits().values().get(g);
        assertThat(Long.parseLong(a.getAttribute("data-value"))).isEqualTo(expected);
        for (Element b : bars) {
          long va = Long.parseLong(a.getAttribute("data-value"));
          long vb = Long.parseLong(b.getAttribute("data-value"));
          double hb = Double.parseDouble(b.getAttribute("height"));
          if (va > vb) {
            assertThat(ha).isGreaterThan(hb);
          }
        }
      }
    }
  }

  @Test
  void edgeCases_emptySeriesOnePolicyZeroAndHugeValues() throws Exception {
    PolicyReport huge =
        new PolicyReport(
            "only",
            List.of(),
            new Summary(0, 0, 0, 4_000_000_000_000L, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            List.of(),
            new CBitAccuracy(0, 0, 0, 0));
    String html = HtmlReport.render(new ReportData("t", "w", "", List.of(huge)));
    List<Document> svgs = svgs(html);
    assertThat(elements(svgs.get(0), "polyline", null)).isEmpty();
    assertThat(svgs.get(0).getDocumentElement().getTextContent()).contains("no KSM samples");
    List<Element> faultBars = elements(svgs.get(1), "rect", "bar");
    assertThat(faultBars).hasSize(4);
    assertThat(faultBars.get(1).getAttribute("height")).isEqualTo("0");
    assertThat(elements(svgs.get(1), "text", "tick").stream().map(Element::getTextContent))
        .contains("4T");
    assertThat(elements(svgs.get(2), "rect", "bar"))
        .hasSize(3)
        .allSatisfy(b -> assertThat(b.getAttribute("height")).isEqualTo("0"));
    assertThat(elements(svgs.get(2), "text", "value"))
        .allSatisfy(t -> assertThat(t.getTextContent()).isEqualTo("0"));
    assertThat(html).contains("no quirks");

    PolicyReport onePoint =
        Samples.policy("dot", List.of(new SeriesPoint(0, 5, 3)), 1, 1, 1, 1, 1, 0, 0);
    Document line = svgs(HtmlReport.render(new ReportData("t", "w", "", List.of(onePoint)))).get(0);
    assertThat(points(elements(line, "polyline", "sharing").get(0)).length).isEqualTo(1);
    assertThat(elements(line, "circle", "dot")).hasSize(2);

    String none = HtmlReport.render(new ReportData("t", "w", "", List.of()));
    assertThat(svgs(none)).hasSize(3);
    assertThat(none).contains("no runs").contains("no data");
  }

  @Test
  void longTimeSeries_isLabelledInSeconds() throws Exception {
    PolicyReport p =
        Samples.policy(
            "long",
            List.of(new SeriesPoint(0, 10, 10), new SeriesPoint(5684.6, 4, 1)),
            1,
            1,
            1,
            1,
            1,
            0,
            0);
    Document d = svgs(HtmlReport.render(new ReportData("t", "w", "", List.of(p)))).get(0);
    assertThat(d.getDocumentElement().getTextContent()).contains("simulated time (s)");
    assertThat(elements(d, "text", "tick").stream().map(Element::getTextContent))
        .contains("5", "6");
  }

  @Test
  void everyStringIsEscaped(@TempDir Path dir) throws Exception {
    String evil = "<script>alert('x')</script>&\"";
    PolicyReport p =
        new PolicyReport(
            evil,
            List.of(evil),
            Samples.summary(1, 2, 3, 4, 0, 0),
            Samples.series(4, 10, 5, 1),
            new CBitAccuracy(2, 2, 0, 0));
    ReportData data = new ReportData(evil, evil, evil, List.of(p));
    Path file = dir.resolve("sub/r.html");
    HtmlReport.write(data, file);
    String html = Files.readString(file);
    assertThat(html).doesNotContain("<script").contains("&lt;script&gt;alert(&#39;x&#39;)");
    assertThat(svgs(html)).hasSize(3); // still well-formed XML
  }

  @Test
  void inconsistentCBits_areRejectedNamingTheField() {
    assertThatThrownBy(
            () ->
                new PolicyReport(
                    "p",
                    List.of(),
                    Samples.summary(1, 1, 1, 1, 5, 0),
                    List.of(),
                    new CBitAccuracy(1, 1, 4, 0)))
        .hasMessageContaining("cBits");
    assertThatThrownBy(() -> new SeriesPoint(-1, 0, 0)).hasMessageContaining("simMs");
  }
}
