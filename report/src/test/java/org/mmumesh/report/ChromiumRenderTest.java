package org.mmumesh.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens a report in headless Chromium (Debian's {@code chromium}; CI installs it with apt-get) and
 * checks that the charts really render: a screenshot must show each policy's line colour where
 * chart 1 draws its lines and each bar's colour where charts 2 and 3 draw their bars, at the
 * positions the renderers' layouts give. Where the charts sit on the page is measured by Chromium
 * itself: a probe copy of the page carries a script that writes each {@code <svg>}'s bounding box
 * into the DOM, read back with {@code --dump-dom} (the report itself has no script).
 *
 * <p>Never skipped: without the browser the test fails naming the missing binary. {@code
 * MMUMESH_CHROMIUM} overrides the path.
 */
public class ChromiumRenderTest {
  static final int WINDOW_W = 1200;
  static final int WINDOW_H = 2400;
  static final long TIMEOUT_S = 120;
  static final int TOLERANCE = 16;

  private static final String PROBE =
      "<script>for (const s of document.querySelectorAll('svg')) {"
          + " const r = s.getBoundingClientRect();"
          + " s.setAttribute('data-rect', [r.left + scrollX, r.top + scrollY, r.width, r.height]"
          + ".join(',')); }</script>\n";

  static Path chromium() {
    String env = System.getenv("MMUMESH_CHROMIUM");
    Path p = Path.of(env == null || env.isBlank() ? "/usr/bin/chromium" : env);
    if (!Files.isExecutable(p)) {
      fail(
          "headless Chromium not found: "
              + p
              + " is missing or not executable. Install Debian's chromium package (apt-get"
              + " install chromium) or set MMUMESH_CHROMIUM to the browser's path.");
    }
    return p;
  }

  /** Runs Chromium headless with a fresh profile; returns its standard output. */
  static String runChromium(Path dir, String name, List<String> args) throws Exception {
    Path profile = Files.createDirectories(dir.resolve("profile-" + name));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                chromium().toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                "--user-data-dir=" + profile,
                "--window-size=" + WINDOW_W + "," + WINDOW_H));
    cmd.addAll(args);
    Path out = dir.resolve(name + ".out");
    Path err = dir.resolve(name + ".err");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail("chromium did not finish within " + TIMEOUT_S + " s: " + String.join(" ", cmd));
    }
    String stdout = Files.readString(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      fail(
          "chromium exited with "
              + p.exitValue()
              + ": "
              + String.join(" ", cmd)
              + "\n"
              + Files.readString(err, StandardCharsets.UTF_8));
    }
    return stdout;
  }

  /** Each svg id's bounding box on the page: x, y, width, height in CSS px. */
  static Map<String, double[]> rects(String dom) {
    Map<String, double[]> rects = new TreeMap<>();
    Matcher m = Pattern.compile("<svg\\b[^>]*>").matcher(dom);
    while (m.find()) {
      Matcher id = Pattern.compile("\\bid=\"([^\"]+)\"").matcher(m.group());
      Matcher r = Pattern.compile("\\bdata-rect=\"([^\"]+)\"").matcher(m.group());
      if (id.find() && r.find()) {
        String[] f = r.group(1).split(",");
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
          v[i] = Double.parseDouble(f[i]);
        }
        rects.put(id.group(1), v);
      }
    }
    return rects;
  }

  static boolean near(int rgb, String hex) {
    int c = Integer.parseInt(hex.substring(1), 16);
    return Math.abs(((rgb >> 16) & 0xFF) - ((c >> 16) & 0xFF)) <= TOLERANCE
        && Math.abs(((rgb >> 8) & 0xFF) - ((c >> 8) & 0xFF)) <= TOLERANCE
        && Math.abs((rgb & 0xFF) - (c & 0xFF)) <= TOLERANCE;
  }

  /** Pixels of colour {@code hex} in the page rectangle [x0, x1) × [y0, y1). */
  static int count(BufferedImage img, String hex, double x0, double y0, double x1, double y1) {
    int n = 0;
    for (int y = (int) Math.ceil(y0); y < (int) y1 && y < img.getHeight(); y++) {
      for (int x = (int) Math.ceil(x0); x < (int) x1 && x < img.getWidth(); x++) {
        if (near(img.getRGB(x, y), hex)) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  void report_rendersThreeCharts_withEveryPolicysLinesAndBarsWhereTheLayoutPutsThem(
      @TempDir Path dir) throws Exception {
    ReportData data = Samples.three();
    Path report = dir.resolve("report.html");
    Files.writeString(report, HtmlReport.render(data), StandardCharsets.UTF_8);
    assertRenders(dir, data, report);
  }

  /**
   * Opens {@code report} (a page {@link HtmlReport} wrote for {@code data}) in headless Chromium
   * and checks it: three charts laid out inside the window, every policy named, each policy's
   * series drawn as a line in its colour inside the line chart and each bar where the layout puts
   * it, of its height. Scratch files go to {@code dir}. Public for the CLI's tests of the reports
   * its commands write.
   */
  public static void assertRenders(Path dir, ReportData data, Path report) throws Exception {
    chromium();
    String html = Files.readString(report, StandardCharsets.UTF_8);
    Path probe = dir.resolve("probe.html");
    Files.writeString(probe, html.replace("</body>", PROBE + "</body>"), StandardCharsets.UTF_8);
    Path png = dir.resolve("report.png");

    String dom = runChromium(dir, "dom", List.of("--dump-dom", probe.toUri().toString()));
    runChromium(dir, "shot", List.of("--screenshot=" + png, report.toUri().toString()));

    // The DOM: three svg elements, every policy named.
    assertThat(Pattern.compile("<svg\\b").matcher(dom).results().count()).isEqualTo(3);
    Map<String, double[]> rects = rects(dom);
    assertThat(rects).containsOnlyKeys(LineChart.ID, HtmlReport.FAULTS_ID, HtmlReport.CBITS_ID);
    for (PolicyReport p : data.policies()) {
      assertThat(dom).contains(p.name());
    }

    String keep = System.getProperty("mmumesh.report.png");
    if (keep != null && !keep.isBlank()) {
      Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(Path.of(keep + ".dom.html"), dom, StandardCharsets.UTF_8);
    }
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img).as("screenshot " + png).isNotNull();
    assertThat(img.getWidth()).isEqualTo(WINDOW_W);
    assertThat(img.getHeight()).isEqualTo(WINDOW_H);
    for (double[] r : rects.values()) {
      assertThat(r[1] + r[3]).as("chart bottom inside the screenshot").isLessThan(WINDOW_H);
    }

    checkLines(img, data, rects.get(LineChart.ID));
    List<String> names = data.policies().stream().map(PolicyReport::name).toList();
    List<List<Long>> faults = data.policies().stream().map(p -> p.faults().values()).toList();
    List<List<Long>> cbits = data.policies().stream().map(p -> p.cBits().values()).toList();
    checkBars(img, names, faults, rects.get(HtmlReport.FAULTS_ID));
    checkBars(img, names, cbits, rects.get(HtmlReport.CBITS_ID));
  }

  private static void checkLines(BufferedImage img, ReportData data, double[] rect) {
    assertThat(rect[2] / LineChart.WIDTH).as("chart 1 at natural size").isBetween(0.98, 1.02);
    double s = rect[2] / LineChart.WIDTH;
    List<PolicyReport> ps = data.policies();
    PlotArea a = LineChart.layout(ps);
    double x0 = rect[0] + s * a.x();
    double y0 = rect[1] + s * a.y();
    double x1 = rect[0] + s * a.right();
    double y1 = rect[1] + s * a.bottom();
    LinearScale xs = LineChart.xScale(ps);
    LinearScale ys = LineChart.yScale(ps);
    double unit = LineChart.timeUnitMs(ps);
    for (int i = 0; i < ps.size(); i++) {
      String colour = Palette.policy(i);
      assertThat(count(img, colour, x0, y0, x1, y1))
          .as("pixels of %s's colour %s in chart 1's plot", ps.get(i).name(), colour)
          .isGreaterThan(200);
      // Where the series ends flat, the solid line must be drawn at that level across the flat
      // part (checked when the flat part is at least 10 px wide).
      List<SeriesPoint> series = ps.get(i).series();
      SeriesPoint last = series.get(series.size() - 1);
      int first = series.size() - 1;
      while (first > 0 && series.get(first - 1).pagesSharing() == last.pagesSharing()) {
        first--;
      }
      SeriesPoint mid = series.get(Math.max(first, series.size() * 3 / 4));
      double px0 = rect[0] + s * xs.map(mid.simMs() / unit);
      double px1 = rect[0] + s * xs.map(last.simMs() / unit);
      double py = rect[1] + s * ys.map(last.pagesSharing());
      if (px1 - px0 < 10) {
        continue;
      }
      assertThat(count(img, colour, px0, py - 3, px1, py + 4))
          .as(
              "%s's pages_sharing line at y=%.0f from x=%.0f to %.0f",
              ps.get(i).name(), py, px0, px1)
          .isGreaterThan((int) ((px1 - px0) * 0.9));
    }
  }

  private static void checkBars(
      BufferedImage img, List<String> names, List<List<Long>> values, double[] rect) {
    assertThat(rect[2] / BarChart.WIDTH).as("bar chart at natural size").isBetween(0.98, 1.02);
    double s = rect[2] / BarChart.WIDTH;
    PlotArea a = BarChart.layout(names);
    long max = values.stream().flatMap(List::stream).mapToLong(Long::longValue).max().orElse(0);
    LinearScale ys = BarChart.yScale(names, max);
    int n = names.size();
    int k = values.get(0).size();
    double w = BarChart.barWidth(n, k);
    int checked = 0;
    for (int i = 0; i < n; i++) {
      String colour = Palette.policy(i);
      for (int g = 0; g < k; g++) {
        long v = values.get(i).get(g);
        double cx = rect[0] + s * (a.x() + BarChart.barX(n, k, g, i) + w / 2);
        double top = rect[1] + s * ys.map(v);
        double bottom = rect[1] + s * a.bottom();
        String what = names.get(i) + " bar " + g + " (" + v + ")";
        if (v == 0) {
          assertThat(near(img.getRGB((int) cx, (int) (bottom - 4)), colour))
              .as(what + " is empty")
              .isFalse();
          continue;
        }
        if (bottom - top >= 6) {
          int ix = (int) cx;
          int iy = (int) ((top + bottom) / 2);
          assertThat(count(img, colour, ix - 2, iy - 2, ix + 3, iy + 3))
              .as(what + " filled at its middle, x=%.1f y=%.1f..%.1f", cx, top, bottom)
              .isEqualTo(25);
          checked++;
        }
        double above = rect[1] + s * a.y() + (top - rect[1] - s * a.y()) * 0.25;
        if (top - above >= 8) {
          assertThat(near(img.getRGB((int) cx, (int) above), colour))
              .as(what + " not taller than its value")
              .isFalse();
        }
      }
    }
    assertThat(checked).as("bars checked").isGreaterThanOrEqualTo(n * k / 2);
  }
}
