package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line, run as a user runs it: a child process, its exit code and its stderr. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MainProcessTest {
  @TempDir Path dir;

  @Test
  void badPortFlag_exits2_namingTheKey() throws Exception {
    try (ChildHoptrace child = ChildHoptrace.run("run", "--inbound", "70000")) {
      assertThat(child.awaitExit()).isEqualTo(2);
      assertThat(child.stderrText()).contains("inbound.port: 70000 (expected: 0..65535)");
    }
  }

  @Test
  void badEnvironmentVariable_exits2_namingTheKey() throws Exception {
    try (ChildHoptrace child =
        new ChildHoptrace(List.of(), Map.of("HOPTRACE_UPSTREAM_CONNECT_TIMEOUT", "soon"), "run")) {
      assertThat(child.awaitExit()).isEqualTo(2);
      assertThat(child.stderrText())
          .contains("upstream.connect-timeout: soon (expected: a duration > 0, e.g. 10s)");
    }
  }

  @Test
  void badConfigFile_exits2_namingTheKey() throws Exception {
    Path file = dir.resolve("hoptrace.conf");
    Files.writeString(file, "hoptrace.app = \"nowhere\"\n");
    try (ChildHoptrace child = ChildHoptrace.run("run", "--config", file.toString())) {
      assertThat(child.awaitExit()).isEqualTo(2);
      assertThat(child.stderrText()).contains("app: nowhere (expected: HOST:PORT");
    }
  }

  @Test
  void unknownFlag_exits2() throws Exception {
    try (ChildHoptrace child = ChildHoptrace.run("run", "--inbund", "8080")) {
      assertThat(child.awaitExit()).isEqualTo(2);
      assertThat(child.stderrText()).contains("unknown option --inbund");
    }
  }

  @Test
  void portInUse_exits1() throws Exception {
    try (java.net.ServerSocket taken =
            new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        ChildHoptrace child =
            ChildHoptrace.run(
                "run", "--inbound", "127.0.0.1:" + taken.getLocalPort(), "--span-log", "-")) {
      assertThat(child.awaitExit()).isEqualTo(1);
      assertThat(child.stderrText()).contains("hoptrace: cannot start");
    }
  }

  @Test
  void spanLogUnwritableAtStart_exits1_namingThePath() throws Exception {
    // Under a regular file: no directory can be made there, not even by root (CI runs as root,
    // where permissions alone would not stop the write).
    Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
    Path spanLog = notADirectory.resolve("spans.log");
    try (ChildHoptrace child =
        ChildHoptrace.run("run", "--inbound", "127.0.0.1:0", "--span-log", spanLog.toString())) {
      assertThat(child.awaitExit()).isEqualTo(1);
      assertThat(child.stderrText()).contains("hoptrace: cannot start").contains("plain-file");
    }
  }

  @Test
  void sigterm_drainsTheInFlightRequest_writesItsSpan_andExits0() throws Exception {
    Path spanLog = dir.resolve("spans.log");
    try (TestUpstream app = new TestUpstream();
        ChildHoptrace child = drainingSidecar(app, spanLog)) {
      int port = child.awaitInboundPort();
      HttpClient client = HttpClient.newHttpClient();
      CompletableFuture<HttpResponse<String>> slow =
          client.sendAsync(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sleep?ms=1500"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      app.take(); // in flight at the app
      child.sigterm();

      HttpResponse<String> response = slow.get(10, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(child.awaitExit()).isZero();
      List<String> lines = Files.readAllLines(spanLog);
      assertThat(lines).hasSize(1);
      assertThat(SpanLines.tag(lines.get(0), "http.path")).isEqualTo("/sleep");
      assertThat(child.stderrText()).contains("hoptrace: stopped");
    }
  }

  @Test
  void sigterm_requestOnKeptAliveConnectionWhileDraining_isRefusedWithSpan() throws Exception {
    Path spanLog = dir.resolve("spans.log");
    try (TestUpstream app = new TestUpstream();
        ChildHoptrace child = drainingSidecar(app, spanLog)) {
      int port = child.awaitInboundPort();
      java.net.InetSocketAddress inbound =
          new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port);
      try (java.net.Socket keptAlive = new java.net.Socket()) {
        keptAlive.connect(inbound, 2000);
        keptAlive.setSoTimeout(5000);
        var out = keptAlive.getOutputStream();
        var in = keptAlive.getInputStream();
        out.write("GET /first HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(io.hoptrace.proxy.guard.DrainProbe.readOne(in)).startsWith("HTTP/1.1 200");
        app.take();

        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<String>> slow =
            client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sleep?ms=1500"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        app.take(); // in flight at the app
        child.sigterm();
        io.hoptrace.proxy.guard.DrainProbe.awaitNotAccepting(inbound);

        out.write("GET /late HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String late = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(late).startsWith("HTTP/1.1 503").contains("Proxy-Status: hoptrace; error=");
        assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      assertThat(child.awaitExit()).isZero();
      List<String> lines = Files.readAllLines(spanLog);
      assertThat(lines).hasSize(3);
      assertThat(lines)
          .anyMatch(
              l ->
                  "/late".equals(SpanLines.tag(l, "http.path"))
                      && "refused: draining".equals(SpanLines.tag(l, "error"))
                      && "503".equals(SpanLines.tag(l, "http.status_code")));
    }
  }

  @Test
  void version_andHelp_exit0() throws Exception {
    try (ChildHoptrace child = ChildHoptrace.run("--version")) {
      assertThat(child.awaitExit()).isZero();
    }
    try (ChildHoptrace child = ChildHoptrace.run("run", "--help")) {
      assertThat(child.awaitExit()).isZero();
    }
  }

  /** A child hoptrace in front of {@code app}, with 10 s to drain on SIGTERM. */
  private static ChildHoptrace drainingSidecar(TestUpstream app, Path spanLog)
      throws java.io.IOException {
    return ChildHoptrace.run(
        "run",
        "--service",
        "slow",
        "--inbound",
        "127.0.0.1:0",
        "--app",
        "127.0.0.1:" + app.port(),
        "--span-log",
        spanLog.toString(),
        "--set",
        "drain-time=10s");
  }
}
