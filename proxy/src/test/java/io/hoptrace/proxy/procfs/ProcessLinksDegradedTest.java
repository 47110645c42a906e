package io.hoptrace.proxy.procfs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.EchoServer;
import io.hoptrace.proxy.testing.Service;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * When /proc cannot be read, process links are off: one startup line says why, the availability
 * metric is 0, and the correlator links as without them (sole, inferred), everything still served.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessLinksDegradedTest {
  @TempDir Path dir;

  /** {@code outbound.engine}: the relay (the default); a subclass runs the tests on undertow. */
  String outboundEngine = "relay";

  @Test
  void procRootWithoutProc_logsWhy_reportsUnavailable_andLinksAsBefore() throws Exception {
    Path emptyProc = Files.createDirectory(dir.resolve("no-proc"));
    Path spansDir = Files.createDirectory(dir.resolve("spans"));
    try (EchoServer callee = new EchoServer()) {
      Service.Behaviour behaviour =
          (exchange, outbound) -> {
            Thread.sleep(150); // several requests in flight at once: the inferred path
            return outbound.get("http://127.0.0.1:" + callee.port() + "/downstream");
          };
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      PrintStream originalErr = System.err;
      Service app;
      System.setErr(new PrintStream(err, true, UTF_8));
      try {
        app =
            Service.start(
                "degraded",
                Service.Forwarding.NONE,
                behaviour,
                spansDir,
                Map.of("procfs.root", emptyProc.toString(), "outbound.engine", outboundEngine));
      } finally {
        System.setErr(originalErr);
      }
      try (app) {
        String startup = err.toString(UTF_8);
        assertThat(startup)
            .contains(
                "hoptrace: process links: process links off: "
                    + emptyProc.resolve("net").resolve("tcp")
                    + " is not readable (/proc is not mounted)");
        assertThat(app.hoptrace().processLinks().available()).isFalse();
        ByteArrayOutputStream metrics = new ByteArrayOutputStream();
        app.hoptrace().metrics().writePrometheusText(metrics);
        assertThat(metrics.toString(UTF_8)).contains("hoptrace_procfs_available 0.0");

        HttpClient http = HttpClient.newHttpClient();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
          List<Future<Integer>> done = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            String path = "/r" + i;
            done.add(
                clients.submit(
                    () ->
                        http.send(
                                HttpRequest.newBuilder(URI.create(app.url(path)))
                                    .timeout(Duration.ofSeconds(30))
                                    .build(),
                                HttpResponse.BodyHandlers.ofString())
                            .statusCode()));
          }
          for (Future<Integer> f : done) assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(200);
        } finally {
          clients.shutdownNow();
        }
        List<String> links = new ArrayList<>();
        for (Map<String, Object> span : app.spans(16)) {
          if (!"CLIENT".equals(span.get("kind"))) continue;
          @SuppressWarnings("unchecked")
          Map<String, String> tags = (Map<String, String>) span.get("tags");
          links.add(tags.get("hoptrace.link"));
          assertThat(tags).doesNotContainKey("hoptrace.inflight");
        }
        assertThat(links).hasSize(8).isSubsetOf("sole", "inferred").contains("inferred");
        ProcessEvidence evidence = app.hoptrace().processLinks().evidence();
        assertThat(evidence).isNotNull();
        assertThat(evidence.processLinks()).isZero();
        assertThat(evidence.ownership().counters().unavailable()).isPositive();
      }
    }
  }

  @Test
  void enabledFalse_neverLooksUp_andSaysSo() throws Exception {
    Path spansDir = Files.createDirectory(dir.resolve("spans-off"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalErr = System.err;
    Service app;
    System.setErr(new PrintStream(err, true, UTF_8));
    try {
      app =
          Service.start(
              "off",
              Service.Forwarding.NONE,
              (exchange, outbound) -> "ok",
              spansDir,
              Map.of("procfs.enabled", "false", "outbound.engine", outboundEngine));
    } finally {
      System.setErr(originalErr);
    }
    try (app) {
      assertThat(err.toString(UTF_8))
          .contains("hoptrace: process links: off (procfs.enabled = false)");
      assertThat(app.hoptrace().processLinks().evidence()).isNull();
      assertThat(app.hoptrace().processLinks().available()).isFalse();
    }
  }
}
