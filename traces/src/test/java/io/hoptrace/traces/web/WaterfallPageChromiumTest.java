package io.hoptrace.traces.web;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hoptrace.traces.Fixtures;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads the waterfall page in headless Chromium (Debian's {@code chromium}) against a real server:
 * the trace list renders, a trace opens by {@code #trace=ID}, its bars have the right count and
 * proportions, and a screenshot is produced. Skipped only when chromium is missing outside CI;
 * under {@code CI=true} a missing chromium fails the test.
 */
class WaterfallPageChromiumTest {
  static final Pattern BAR =
      Pattern.compile(
          "class=\"bar( error)?\" data-span-id=\"([0-9a-f]{16})\" style=\"left: ([0-9.]+)%;"
              + " width: ([0-9.]+)%;");

  static TracesHttpServer server;
  static String chromium;

  @BeforeAll
  static void start() throws IOException {
    chromium = findChromium();
    if (chromium == null) {
      assertThat(System.getenv("CI"))
          .as("chromium is required under CI (.ci/run installs it)")
          .isNull();
      assumeTrue(false, "chromium not installed (apt-get install chromium)");
    }
    server =
        TracesHttpServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new TracesWebHandler(TraceSource.ofFiles(List.of(Fixtures.logs()))));
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  static String findChromium() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":", -1)) {
      for (String name : List.of("chromium", "chromium-browser")) {
        Path p = Path.of(dir.isEmpty() ? "." : dir, name);
        if (Files.isExecutable(p)) return p.toString();
      }
    }
    return null;
  }

  String url(String fragment) {
    return "http://127.0.0.1:" + server.port() + "/" + fragment;
  }

  /** Runs headless Chromium once, bounded in time; returns stdout. */
  static String chromium(Path profile, String... extra) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--user-data-dir=" + profile,
                // Lets the page's fetch() calls finish before the DOM is dumped.
                "--virtual-time-budget=10000"));
    cmd.addAll(List.of(extra));
    Path out = Files.createTempFile(profile.getParent(), "chromium-", ".out");
    Path err = Files.createTempFile(profile.getParent(), "chromium-", ".err");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("chromium did not finish in 90s: " + Files.readString(err, UTF_8));
    }
    return Files.readString(out, UTF_8);
  }

  @Test
  void list_rendersEveryTrace(@TempDir Path tmp) throws Exception {
    String dom = chromium(tmp.resolve("profile"), "--dump-dom", url(""));
    assertThat(dom).contains("data-trace-id=\"" + Fixtures.CHECKOUT + "\"");
    assertThat(dom).contains("data-trace-id=\"" + Fixtures.HEALTH + "\"");
    assertThat(dom).contains("data-trace-id=\"" + Fixtures.ORPHAN + "\"");
    assertThat(dom).contains("3 of 3 traces");
  }

  @Test
  void trace_rendersProportionalBars(@TempDir Path tmp) throws Exception {
    String dom = chromium(tmp.resolve("profile"), "--dump-dom", url("#trace=" + Fixtures.CHECKOUT));
    Map<String, double[]> bars = new LinkedHashMap<>();
    Map<String, Boolean> errors = new LinkedHashMap<>();
    Matcher m = BAR.matcher(dom);
    while (m.find()) {
      bars.put(
          m.group(2),
          new double[] {Double.parseDouble(m.group(3)), Double.parseDouble(m.group(4))});
      errors.put(m.group(2), m.group(1) != null);
    }
    // One bar per span, in waterfall order.
    assertThat(bars.keySet())
        .containsExactly(
            "a000000000000001",
            "a000000000000002",
            "a000000000000003",
            "a000000000000004",
            "a000000000000005",
            "a000000000000006");
    // Widths are duration / trace duration (48.2ms); offsets are start / trace duration.
    assertThat(bars.get("a000000000000001")).containsExactly(0.0, 100.0);
    assertThat(bars.get("a000000000000002")[1]).isCloseTo(100.0 * 40_000 / 48_200, within());
    assertThat(bars.get("a000000000000005")[0]).isCloseTo(100.0 * 4_000 / 48_200, within());
    assertThat(bars.get("a000000000000005")[1]).isCloseTo(100.0 * 18_000 / 48_200, within());
    assertThat(bars.get("a000000000000006")[0]).isCloseTo(100.0 * 24_000 / 48_200, within());
    assertThat(bars.get("a000000000000004")[1] / bars.get("a000000000000006")[1])
        .isCloseTo(20.0 / 12.0, within());
    assertThat(errors)
        .containsEntry("a000000000000004", true)
        .containsEntry("a000000000000001", false);
    // The inferred link is marked, with its candidates.
    assertThat(dom).contains("inferred/3").contains("<span class=\"mark\">~</span>");
    // Hover details: every tag of every hop, the attribution evidence marked as such.
    assertThat(dom)
        .contains(evidence("hoptrace.candidates", "3"))
        .contains(evidence("hoptrace.score", "0.82"))
        .contains(evidence("hoptrace.link", "inferred"))
        .contains(evidence("http.request_id", Fixtures.REQUEST_ID))
        .contains("<td class=\"k\">http.status_code</td><td class=\"mono\">503</td>")
        .contains("<td class=\"k\">peer</td><td class=\"mono\">10.0.2.7:7001</td>");
    assertThat(dom.split("<table class=\"details\" hidden=\"\">", -1)).hasSize(7);
  }

  @Test
  void trace_screenshotIsProduced(@TempDir Path tmp) throws Exception {
    Path png = tmp.resolve("waterfall.png");
    chromium(
        tmp.resolve("profile"),
        "--window-size=1200,800",
        "--screenshot=" + png,
        url("#trace=" + Fixtures.CHECKOUT));
    assertThat(png).exists();
    byte[] bytes = Files.readAllBytes(png);
    assertThat(bytes.length).isGreaterThan(10_000); // a blank 1200x800 PNG is far smaller
    assertThat(new String(bytes, 1, 3, UTF_8)).isEqualTo("PNG");
    java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(1200);
    // Some pixels carry a bar colour (the first service's teal), not only the page background.
    int coloured = 0;
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        int rgb = image.getRGB(x, y) & 0xffffff;
        if (rgb == 0x26a69a) coloured++;
      }
    }
    assertThat(coloured).isGreaterThan(500);
    Path keep = Path.of("target/chromium");
    Files.createDirectories(keep);
    Files.copy(
        png, keep.resolve("waterfall.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  static String evidence(String key, String value) {
    return "<tr class=\"evidence\"><td class=\"k\">"
        + key
        + "</td><td class=\"mono\">"
        + value
        + "</td></tr>";
  }

  static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(0.01);
  }
}
