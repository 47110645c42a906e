package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class StaleConnectionRetryTest extends GuardHarness {
  private final AtomicInteger staleSeen = new AtomicInteger();

  @BeforeEach
  void appDropsItsFirstStaleRequest() {
    // Only the first /stale request is lost; the retry (on a new connection) gets its 200.
    app.answer =
        request ->
            request.contains(" /stale ") && staleSeen.getAndIncrement() == 0
                ? null
                : RecordingApp.OK;
  }

  @Test
  void getOnAStalePooledConnection_isSentAgainOnANewOne_200() throws Exception {
    start();
    Raw second = afterFirst("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    if (upstreamClient == null) {
      assertThat(second.status()).as(second.toString()).isEqualTo(200);
      assertThat(app.heads).as("the app saw the request twice").hasSize(3);
      assertThat(app.connections.get()).as("the retry's own connection").isEqualTo(2);
      assertThat(upstreamGauge("retries")).isEqualTo(1);
      String span = awaitSpans(2).get(1);
      assertThat(span).as("one span, the retry's answer").contains("\"http.status_code\":\"200\"");
      assertThat(span).doesNotContain("\"error\"");
    } else {
      jettyAnswer(second);
    }
  }

  @Test
  void postWithABody_isNotSentAgain_502() throws Exception {
    start();
    Raw second =
        afterFirst(
            "POST /stale HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                + "hello");
    assertThat(second.status()).as(second.toString()).isEqualTo(502);
    assertThat(app.heads).as("sent once").hasSize(2);
    if (upstreamClient == null) {
      // Same-loop reuses the pooled connection within the IO thread, deterministically. Jetty
      // returns a connection to its pool on its own thread after the response, so the POST may
      // find it not yet back and open a second one (seen once in a full run): not asserted there.
      assertThat(app.connections.get()).isEqualTo(1);
      assertThat(upstreamGauge("retries")).isZero();
    }
  }

  @Test
  void bodilessPost_isNotSentAgain_502() throws Exception {
    start();
    Raw second =
        afterFirst(
            "POST /stale HTTP/1.1\r\nHost: app\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assertThat(second.status()).as(second.toString()).isEqualTo(502);
    assertThat(app.heads).as("sent once").hasSize(2);
    if (upstreamClient == null) assertThat(upstreamGauge("retries")).isZero();
  }

  @Test
  void getLostOnANewConnection_isNotSentAgain_502() throws Exception {
    start();
    Raw answer = send("GET /stale HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(answer.status()).as(answer.toString()).isEqualTo(502);
    assertThat(app.heads).hasSize(1);
    if (upstreamClient == null) assertThat(upstreamGauge("retries")).isZero();
  }

  /** What the Jetty transport does with it (see {@link StaleConnectionRetryJettyTest}). */
  void jettyAnswer(Raw second) throws Exception {
    throw new AssertionError("default transport only: " + second);
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
          .write("GET /first HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String first = DrainProbe.readOne(socket.getInputStream());
      assertThat(first).startsWith("HTTP/1.1 200 ");
      long start = System.nanoTime();
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return Raw.read(socket, start);
    }
  }
}
