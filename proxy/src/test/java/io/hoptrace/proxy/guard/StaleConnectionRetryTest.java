package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pooled upstream connection the app has given up on (it closes connections it considers idle,
 * without {@code Connection: close}): the next request sent on it is lost. The stale case is made
 * without any timing: the app answers {@code /first} with a keep-alive 200, then reads the next
 * request on that connection and resets it without answering, as an app does whose idle close
 * crossed the request on the wire. The retry goes on a new connection, where the app answers. Both
 * client requests go on one client connection, so on one IO thread and its pool.
 *
 * <p>Runs on the default transport; {@link StaleConnectionRetryJettyTest} runs every case again on
 * the Jetty one, which retries by the same rules.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class StaleConnectionRetryTest extends GuardHarness {
  private final AtomicInteger staleSeen = new AtomicInteger();

  @BeforeEach
  void appDropsItsFirstStaleRequest() {
    // Only the first /stale request is lost; the retry (on a new connection) gets its 200.
    onFirstStale(request -> null);
  }

  /** The app answers the first {@code /stale} request with what {@code first} gives. */
  private void onFirstStale(Function<String, String> first) {
    app.answer =
        request ->
            request.contains(" /stale") && staleSeen.getAndIncrement() == 0
                ? first.apply(request)
                : RecordingApp.OK;
  }

  @Test
  void getOnAStalePooledConnection_isSentAgainOnANewOne_200() throws Exception {
    startHoptrace();
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(200);
    assertThat(app.heads).as("the app saw the request twice").hasSize(3);
    assertThat(app.connections.get()).as("the retry's own connection").isEqualTo(2);
    assertThat(upstreamGauge("retries")).isEqualTo(1);
  }

  @Test
  void retry_carriesTheSameHeaders_andMakesOneSpan() throws Exception {
    startHoptrace();
    Raw second =
        afterFirst(
            "GET /stale?q=1 HTTP/1.1\r\nHost: app\r\nX-Mine: a\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(200);
    String lost = app.heads.get(1);
    String retried = app.heads.get(2);
    assertThat(lost).startsWith("GET /stale?q=1 HTTP/1.1\r\n");
    assertThat(traceparent(lost)).as(lost).isNotNull();
    // The very same head: the trace context injected once, not a second span's.
    assertThat(retried).isEqualTo(lost);

    assertStillServes();
    List<String> spans = awaitSpans(3);
    assertThat(spans).as("one span line per request, the retry's included").hasSize(3);
    String span = spans.get(1);
    assertThat(span).contains("\"http.path\":\"/stale");
    assertThat(span).as("the retry's answer").contains("\"http.status_code\":\"200\"");
    assertThat(span).doesNotContain("\"error\"");
    // The span whose id went to the app (the SERVER span of this hop).
    assertThat(span).contains(traceparent(lost).split("-", -1)[2]);
  }

  @Test
  void headOnAStalePooledConnection_isSentAgain_200() throws Exception {
    startHoptrace();
    Raw second = afterFirst("HEAD /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(200);
    assertThat(app.heads).hasSize(3);
    assertThat(upstreamGauge("retries")).isEqualTo(1);
  }

  @Test
  void postWithABody_isNotSentAgain_502() throws Exception {
    startHoptrace();
    Raw second =
        afterFirst(
            "POST /stale HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                + "hello");
    assertThat(second.status()).as(second.toString()).isEqualTo(502);
    assertThat(app.heads).as("sent once").hasSize(2);
    assertThat(upstreamGauge("retries")).isZero();
    assertThat(app.connections.get()).as("the pooled one only").isEqualTo(1);
  }

  @Test
  void putWithABody_isNotSentAgain_502() throws Exception {
    startHoptrace();
    Raw second =
        afterFirst(
            "PUT /stale HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                + "hello");
    assertThat(second.status()).as(second.toString()).isEqualTo(502);
    assertThat(app.heads).as("sent once").hasSize(2);
    assertThat(upstreamGauge("retries")).isZero();
  }

  @Test
  void bodilessPost_isNotSentAgain_502() throws Exception {
    startHoptrace();
    Raw second =
        afterFirst(
            "POST /stale HTTP/1.1\r\nHost: app\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(502);
    assertThat(second.header("Proxy-Status")).startsWith("hoptrace; error=connection_terminated");
    assertThat(app.heads).as("sent once").hasSize(2);
    assertThat(upstreamGauge("retries")).isZero();
  }

  @Test
  void getLostOnANewConnection_isNotSentAgain_502() throws Exception {
    startHoptrace();
    Raw answer = send("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(answer.status()).as(answer.toString()).isEqualTo(502);
    assertThat(app.heads).hasSize(1);
    assertThat(upstreamGauge("retries")).isZero();
  }

  @Test
  void getWhoseResponseBroke_isNotSentAgain() throws Exception {
    // The app answers the head and 2 of 10 body bytes, then closes: the response had begun.
    onFirstStale(request -> "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab" + RecordingApp.CLOSE);
    startHoptrace();
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as("the app's status went on: " + second).isEqualTo(200);
    assertThat(second.text()).as("then the cut").endsWith("\r\n\r\nab");
    assertThat(second.closed()).isTrue();
    assertThat(app.heads).as("sent once").hasSize(2);
    assertThat(upstreamGauge("retries")).isZero();
  }

  @Test
  void getWhoseHeadBroke_isNotSentAgainByJetty() throws Exception {
    // The app sends its status line and part of a header, then closes: bytes of a response came,
    // none reached the caller.
    onFirstStale(request -> "HTTP/1.1 200 OK\r\nContent-Le" + RecordingApp.CLOSE);
    startHoptrace();
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    if (upstreamClient == null) {
      // Same-loop sends it again: Undertow's client reports a head cut short as it reports a
      // reset before the response, and it tells nothing of the bytes read. Pinned as it is.
      assertThat(second.status()).as(second.toString()).isEqualTo(200);
      assertThat(app.heads).hasSize(3);
      assertThat(upstreamGauge("retries")).isEqualTo(1);
    } else {
      // Jetty counts the bytes it reads on a connection: a response had begun, not retried.
      assertThat(second.status()).as(second.toString()).isEqualTo(502);
      assertThat(app.heads).as("sent once").hasSize(2);
      assertThat(upstreamGauge("retries")).isZero();
    }
  }

  @Test
  void getTimingOutOnAPooledConnection_isNotSentAgain_504() throws Exception {
    // The app holds the request past the response timeout, then resets the connection.
    onFirstStale(
        request -> {
          try {
            Thread.sleep(1500);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return null;
        });
    startHoptrace("upstream.response-timeout", "300ms");
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(504);
    Thread.sleep(1500); // past the app's reset: it must not bring a retry either
    assertThat(app.heads).as("sent once").hasSize(2);
    assertThat(upstreamGauge("retries")).isZero();
  }

  @Test
  void retryWithoutAnAnswer_is504() throws Exception {
    // The first /stale is lost; the app holds the retry past the response timeout.
    app.answer =
        request -> {
          if (!request.contains(" /stale")) return RecordingApp.OK;
          if (staleSeen.getAndIncrement() == 0) return null;
          try {
            Thread.sleep(1500);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return RecordingApp.OK;
        };
    startHoptrace("upstream.response-timeout", "500ms");
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(504);
    assertThat(app.heads).as("sent twice").hasSize(3);
    assertThat(upstreamGauge("retries")).isEqualTo(1);
  }

  @Test
  void retryThatCannotConnect_is502_once() throws Exception {
    // The app goes away with the request: the retry finds nobody listening.
    onFirstStale(
        request -> {
          try {
            app.server.close();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
          return null;
        });
    startHoptrace();
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(502);
    assertThat(app.heads).as("the app saw it once").hasSize(2);
    assertThat(upstreamGauge("retries")).as("tried once").isEqualTo(1);
  }

  /**
   * Starts hoptrace with the default {@code upstream.max-connections}. Session 17 ran these with
   * one: Jetty gives a connection back to its pool just before onComplete, and the exchange then
   * ended with the body, so the next request on the client connection could find the pool empty and
   * open a spare (the stale request then went on a new connection). The exchange now ends only
   * after onComplete (e83ba93), and Undertow starts a connection's next exchange only once the last
   * one ended, so the next request always finds the first's connection idle.
   */
  private void startHoptrace(String... more) throws Exception {
    start(more);
  }

  private static String traceparent(String head) {
    for (String line : head.split("\r\n", -1)) {
      if (line.toLowerCase(Locale.ROOT).startsWith("traceparent:")) {
        return line.substring(line.indexOf(':') + 1).strip();
      }
    }
    return null;
  }

  /**
   * Sends {@code GET /first} (kept alive: its upstream connection goes back to the pool), then
   * {@code request} on the same client connection; returns the answer to the latter.
   */
  private Raw afterFirst(String request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      socket
          .getOutputStream()
          .write("GET /first HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      String first = DrainProbe.readOne(socket.getInputStream());
      assertThat(first).startsWith("HTTP/1.1 200 ");
      long start = System.nanoTime();
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return Raw.read(socket, start);
    }
  }
}
