package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A recording app, hoptrace in-process in front of it, and a raw socket: the guard tests' stage.
 */
abstract class GuardHarness {
  static final int TIMEOUT = 3000;

  @TempDir Path dir;
  RecordingApp app;
  Hoptrace hoptrace;
  Path spanLog;

  @BeforeEach
  void startApp() throws IOException {
    app = new RecordingApp();
    spanLog = dir.resolve("spans.log");
  }

  @AfterEach
  void stop() throws IOException {
    if (hoptrace != null) hoptrace.close();
    app.close();
  }

  /** {@code upstream.client} for the whole class (a subclass runs the tests on the other). */
  @org.jspecify.annotations.Nullable String upstreamClient;

  /** {@code inbound.engine} for the whole class (a subclass runs the tests on the relay). */
  @org.jspecify.annotations.Nullable String inboundEngine;

  /**
   * {@code outbound.engine} for the whole class: the relay (the default), or {@code undertow} (a
   * subclass runs the outbound listeners' tests on the Undertow path).
   */
  String outboundEngine = "relay";

  Hoptrace start(String... keyValues) throws Exception {
    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", "guarded");
    if (upstreamClient != null) overrides.put("upstream.client", upstreamClient);
    if (inboundEngine != null) overrides.put("inbound.engine", inboundEngine);
    overrides.put("outbound.engine", outboundEngine);
    overrides.put("inbound.host", "127.0.0.1");
    overrides.put("inbound.port", "0");
    overrides.put("app", "127.0.0.1:" + app.port());
    overrides.put("span-log.path", spanLog.toString());
    overrides.put("span-log.flush-interval", "20ms");
    overrides.put("drain-time", "2s");
    for (int i = 0; i < keyValues.length; i += 2) overrides.put(keyValues[i], keyValues[i + 1]);
    hoptrace =
        Hoptrace.start(
            Settings.load(null, Map.of(), overrides),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    return hoptrace;
  }

  InetSocketAddress inbound() {
    return hoptrace.inboundAddress();
  }

  Raw send(String request) throws IOException {
    return Raw.send(inbound(), request, TIMEOUT);
  }

  long refusals(RefusalReason reason) {
    return hoptrace.metrics().counter(reason.metricName()).getCount();
  }

  /** The gauge {@code hoptrace_upstream_<name>} as /metrics shows it; fails when there is none. */
  long upstreamGauge(String name) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    hoptrace.metrics().writePrometheusText(text);
    for (String line : text.toString(StandardCharsets.UTF_8).split("\n", -1)) {
      if (line.startsWith("hoptrace_upstream_" + name + " ")) {
        return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1));
      }
    }
    throw new AssertionError("no gauge hoptrace_upstream_" + name + " in\n" + text);
  }

  List<String> spanLines() throws IOException {
    return Files.exists(spanLog) ? Files.readAllLines(spanLog) : List.of();
  }

  /** Waits up to 3 s for at least {@code count} span lines. */
  List<String> awaitSpans(int count) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + 3_000_000_000L;
    List<String> lines = spanLines();
    while (lines.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(20);
      lines = spanLines();
    }
    return lines;
  }

  /** A plain request on a new connection still gets the app's 200: the proxy is unharmed. */
  void assertStillServes() throws IOException {
    int before = app.requests.size();
    Raw ok = send("GET /still-ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(before + 1);
  }
}
