package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.RefusedPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The upstream misbehaves: refused, reset, malformed framing, too slow. The client gets 502 (504
 * for a timeout) with {@code Proxy-Status}, quickly, and the proxy keeps serving.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class UpstreamFaultTest extends GuardHarness {
  static final String GET = "GET /x HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n";

  @Test
  void upstreamRefused_502WithinASecond() throws Exception {
    try (RefusedPort refused = new RefusedPort()) {
      start("app", "127.0.0.1:" + refused.port());
      Raw answer = send(GET);
      assertThat(answer.status()).as(answer.toString()).isEqualTo(502);
      assertThat(answer.millis()).isLessThan(1000L);
      assertThat(answer.header("Proxy-Status")).startsWith("hoptrace; error=connection_refused");
      assertThat(awaitSpans(1).get(0)).contains("\"error\":\"connect:");
    }
  }

  @Test
  void upstreamResets_502WithProxyStatus() throws Exception {
    app.answer = request -> null;
    start();
    Raw answer = send(GET);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(502);
    assertThat(answer.millis()).isLessThan(1000L);
    assertThat(answer.header("Proxy-Status")).startsWith("hoptrace; error=");
  }

  @Test
  void malformedContentLength_502() throws Exception {
    app.answer = request -> "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok";
    start();
    Raw answer = send(GET);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(502);
    assertThat(answer.millis()).isLessThan(1000L);
    assertThat(answer.header("Proxy-Status")).startsWith("hoptrace; error=");
  }

  @Test
  void malformedStatusLine_502() throws Exception {
    app.answer = request -> "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok";
    start();
    Raw answer = send(GET);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(502);
    assertThat(answer.millis()).isLessThan(1000L);
  }

  @Test
  void responseWithContentLengthAndChunked_neverReachesTheClientAmbiguously() throws Exception {
    app.answer =
        request ->
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2\r\nok\r\n0\r\n\r\n";
    start();
    Raw answer = send(GET);
    // Either refused (502) or re-framed: never both framing headers to the client.
    assertThat(answer.status()).as(answer.toString()).isIn(200, 502);
    assertThat(
            answer.header("Content-Length") != null && answer.header("Transfer-Encoding") != null)
        .isFalse();
  }

  @Test
  void upstreamTooSlow_504WithProxyStatus() throws Exception {
    app.answer =
        request -> {
          try {
            Thread.sleep(3000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return RecordingApp.OK;
        };
    start("upstream.response-timeout", "300ms");
    Raw answer = send(GET);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(504);
    assertThat(answer.millis()).isLessThan(1500L);
    assertThat(answer.header("Proxy-Status")).startsWith("hoptrace; error=http_response_timeout");
  }

  /**
   * Slow requests started apart, with quick ones in between (some on the same IO thread: more
   * connections than IO threads): each slow one gets its 504 at its own deadline — never before it,
   * and not one timeout later (the same-loop transport keeps one timer per thread, set for the
   * oldest request's deadline, and each quick one leaves its list before its deadline).
   */
  @Test
  void slowRequestsStartedApart_eachTimesOutAtItsOwnDeadline() throws Exception {
    app.answer =
        request -> {
          if (request.startsWith("GET /slow")) {
            try {
              Thread.sleep(2500);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return RecordingApp.OK;
        };
    start("upstream.response-timeout", "1s");
    String slow = "GET /slow HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n";
    java.util.concurrent.ExecutorService clients =
        java.util.concurrent.Executors.newCachedThreadPool();
    try {
      List<java.util.concurrent.Future<Raw>> slowAnswers = new java.util.ArrayList<>();
      for (int i = 0; i < 6; i++) {
        slowAnswers.add(clients.submit(() -> send(slow)));
        Raw quick = send(GET);
        assertThat(quick.status()).as(quick.toString()).isEqualTo(200);
        Thread.sleep(100);
      }
      for (java.util.concurrent.Future<Raw> f : slowAnswers) {
        Raw answer = f.get(10, TimeUnit.SECONDS);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(504);
        assertThat(answer.header("Proxy-Status"))
            .startsWith("hoptrace; error=http_response_timeout");
        // its own deadline: one timeout after it arrived, give or take the machine's load
        assertThat(answer.millis()).as(answer.toString()).isBetween(990L, 1700L);
      }
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void appKilledAndBack_502WhileDown_servesWithinASecondOfItsReturn() throws Exception {
    start();
    assertThat(send(GET).status()).isEqualTo(200);
    int port = app.port();
    RecordingApp killed = app;
    int accepted = killed.connections.get();
    killed.close();
    for (int i = 0; i < 5; i++) {
      Raw down = send(GET);
      int request = i;
      assertThat(down.status())
          .as(() -> whileDown(request, down, killed.connections.get() - accepted))
          .isEqualTo(502);
      assertThat(down.millis())
          .as(() -> whileDown(request, down, killed.connections.get() - accepted))
          .isLessThan(1000L);
    }
    app = new RecordingApp(port);
    long back = System.nanoTime();
    int status;
    do {
      status = send(GET).status();
    } while (status != 200 && System.nanoTime() - back < 3_000_000_000L);
    assertThat(status).isEqualTo(200);
    assertThat((System.nanoTime() - back) / 1_000_000).isLessThan(1000L);
  }

  /**
   * What a failed check while the app is down prints: the answer, whether the killed app still took
   * connections (a test-stage fault, not hoptrace's: see {@link RecordingApp#close()}), this
   * request's span line (its error says what the upstream client saw) and the upstream metrics.
   */
  private String whileDown(int request, Raw down, int acceptedAfterKill) {
    StringBuilder why =
        new StringBuilder()
            .append("request ")
            .append(request)
            .append(" while down (")
            .append(down.millis())
            .append(" ms): ")
            .append(down)
            .append("\nconnections the killed app accepted after close(): ")
            .append(acceptedAfterKill);
    try {
      // The first 200, then one line per request while down (written once the exchange ended).
      List<String> spans = awaitSpans(request + 2);
      why.append("\nspan line: ").append(spans.isEmpty() ? "none" : spans.get(spans.size() - 1));
      ByteArrayOutputStream metrics = new ByteArrayOutputStream();
      hoptrace.metrics().writePrometheusText(metrics);
      metrics
          .toString(StandardCharsets.UTF_8)
          .lines()
          .filter(line -> line.startsWith("hoptrace_upstream") || line.contains("in_flight"))
          .forEach(line -> why.append("\n").append(line));
    } catch (IOException e) {
      why.append("\n(diagnostics failed: ").append(e).append(')');
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return why.toString();
  }

  @Test
  void appResetsMidBody_clientConnectionIsCut_nothingLeaks() throws Exception {
    app.answer = request -> "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial";
    start("upstream.idle-timeout", "1s");
    Raw answer = send(GET);
    assertThat(answer.closed()).isTrue();
    assertThat(answer.text()).startsWith("HTTP/1.1 200").endsWith("partial");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (hoptrace.metrics().inFlight(io.hoptrace.proxy.metrics.ProxyMetrics.Hop.INBOUND) > 0
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(hoptrace.metrics().inFlight(io.hoptrace.proxy.metrics.ProxyMetrics.Hop.INBOUND))
        .isZero();
  }
}
