package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a well-formed message keeps on its way through: trailers of a chunked body (both ways,
 * hop-by-hop fields dropped) and no header the sender did not send; and {@code
 * upstream.max-connections} as a cap on connections open to the app, busy or idle. Raw client, raw
 * recording app: the bytes on each side are what is asserted. Runs on the default transport; {@link
 * ForwardingFidelityJettyTest} runs it on Jetty.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class ForwardingFidelityTest extends GuardHarness {

  @Test
  void chunkedRequestTrailers_reachTheApp_withoutHopByHopOnes() throws Exception {
    start();
    Raw answer =
        send(
            "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n"
                + "Trailer: X-Sum\r\nConnection: close, X-Hop\r\n\r\n"
                + "4\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Sum: 42\r\nX-Hop: secret\r\n"
                + "Keep-Alive: timeout=5\r\n\r\n");
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
    String request = app.requests.get(0);
    String body = request.substring(request.indexOf("\r\n\r\n") + 4);
    assertThat(body).as("the body the app got").contains("abcd").contains("efg");
    assertThat(trailers(body)).as("the trailer section the app got").isEqualTo("X-Sum: 42\r\n");
  }

  @Test
  void chunkedResponseTrailers_reachTheClient_withoutHopByHopOnes() throws Exception {
    app.answer =
        request ->
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n"
                + "Connection: X-Hop\r\n\r\n"
                + "2\r\nok\r\n0\r\nX-Sum: 7\r\nX-Hop: no\r\nTE: trailers\r\n\r\n";
    start();
    // Keep-alive: on a connection it closes after the response, Undertow frames by the close.
    String answer;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      socket
          .getOutputStream()
          .write("GET /download HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      answer = readChunkedResponse(socket.getInputStream());
    }
    assertThat(answer)
        .startsWith("HTTP/1.1 200 ")
        .containsIgnoringCase("\r\nTransfer-Encoding: chunked\r\n");
    String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
    assertThat(body).as(answer).matches("(?s)0*2\r\nok\r\n.*"); // Undertow writes "02"
    assertThat(trailers(body)).as(answer).isEqualTo("X-Sum: 7\r\n");
  }

  @Test
  void requestBodyWithoutContentType_getsNone() throws Exception {
    start();
    Raw fixed =
        send(
            "POST /fixed HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n"
                + "Connection: close\r\n\r\nhello");
    Raw chunked =
        send(
            "POST /chunked HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assertThat(fixed.status()).as(fixed.toString()).isEqualTo(200);
    assertThat(chunked.status()).as(chunked.toString()).isEqualTo(200);
    assertThat(app.heads).hasSize(2);
    for (String head : app.heads) {
      assertThat(head.toLowerCase(java.util.Locale.ROOT))
          .as("a header nobody sent")
          .doesNotContain("content-type");
    }
  }

  @Test
  void requestBodyWithContentType_keepsIt() throws Exception {
    start();
    Raw answer =
        send(
            "POST /typed HTTP/1.1\r\nHost: app\r\nContent-Type: text/x-mine; charset=latin1\r\n"
                + "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.heads.get(0)).contains("\r\nContent-Type: text/x-mine; charset=latin1\r\n");
  }

  @Test
  void maxConnections_capsOpenUpstreamConnections_furtherRequestsWaitForOne() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    app.answer = request -> request.startsWith("GET /hold ") ? held(release) : RecordingApp.OK;
    start("upstream.max-connections", "1");
    ExecutorService clients = Executors.newFixedThreadPool(4);
    try {
      Future<Raw> first = clients.submit(() -> send(get("/hold")));
      awaitHeads(1);
      List<Future<Raw>> more = new ArrayList<>();
      for (int i = 0; i < 3; i++) more.add(clients.submit(() -> send(get("/next"))));
      Thread.sleep(500);
      assertThat(app.heads).as("requests the app got while its one connection is busy").hasSize(1);
      if (upstreamClient == null) assertThat(upstreamGauge("connection_waiting")).isEqualTo(3);
      release.countDown();
      assertThat(first.get().status()).isEqualTo(200);
      for (Future<Raw> f : more) assertThat(f.get().status()).as(f.get().toString()).isEqualTo(200);
      assertThat(app.requests).hasSize(4);
      if (upstreamClient == null) {
        assertThat(upstreamGauge("connection_waits")).isEqualTo(3);
        assertThat(upstreamGauge("connection_waiting")).isZero();
      }
    } finally {
      release.countDown();
      clients.shutdownNow();
    }
  }

  @Test
  void maxConnections_placesComeBack_whenUpstreamConnectionsClose() throws Exception {
    // Every answer closes the upstream connection: each must give its place back.
    app.answer = request -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    start("upstream.max-connections", "1", "upstream.response-timeout", "2s");
    for (int i = 0; i < 5; i++) {
      Raw answer = send(get("/closing"));
      assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    }
    assertThat(app.connections.get()).isEqualTo(5);
  }

  @Test
  void maxConnections_waitLongerThanTheResponseTimeout_answers504_sayingWhy() throws Exception {
    // The first answer stops 8 bytes short of its length: its connection stays busy, in the body
    // (so past the response timeout, which counts to the headers).
    app.answer =
        request ->
            request.startsWith("GET /stall ")
                ? "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok"
                : RecordingApp.OK;
    start("upstream.max-connections", "1", "upstream.response-timeout", "700ms");
    ExecutorService clients = Executors.newFixedThreadPool(1);
    try {
      Future<Raw> first = clients.submit(() -> send(get("/stall")));
      awaitHeads(1);
      Raw waited = send(get("/waits"));
      assertThat(waited.millis()).as("waited the response timeout").isGreaterThanOrEqualTo(600L);
      assertThat(app.heads).hasSize(1);
      String span = awaitSpans(1).get(0);
      if (upstreamClient == null) {
        assertThat(waited.status()).as(waited.toString()).isEqualTo(504);
        assertThat(span)
            .contains("\"error\":\"timeout: no upstream connection free in 700ms")
            .contains("upstream.max-connections = 1");
        assertThat(upstreamGauge("connection_waits")).isEqualTo(1);
        assertThat(upstreamGauge("connection_waiting")).isZero();
      } else {
        // Jetty cannot tell its queue from a slow connect: 502, the message names both.
        assertThat(waited.status()).as(waited.toString()).isEqualTo(502);
        assertThat(span)
            .contains("\"error\":\"connect: no connection in 700ms")
            .contains("upstream.max-connections = 1");
      }
      assertThat(first.get().text()).startsWith("HTTP/1.1 200 ");
    } finally {
      clients.shutdownNow();
    }
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n";
  }

  /** The app's answer once {@code release} is counted down. */
  private static String held(CountDownLatch release) {
    try {
      release.await(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return RecordingApp.OK;
  }

  private void awaitHeads(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT / 1000);
    while (app.heads.size() < count && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(app.heads).hasSize(count);
  }

  /** Reads one response with a chunked body, up to the end of its trailer section. */
  private static String readChunkedResponse(InputStream in) throws IOException {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) break;
      seen.write(b);
      String text = seen.toString(StandardCharsets.ISO_8859_1);
      int head = text.indexOf("\r\n\r\n");
      if (head < 0 || !text.endsWith("\r\n\r\n") || text.length() == head + 4) continue;
      String body = text.substring(head + 4);
      if (body.startsWith("0\r\n") || body.contains("\r\n0\r\n")) break;
    }
    return seen.toString(StandardCharsets.ISO_8859_1);
  }

  /** The trailer section of a chunked body: the lines after its last chunk, each with its CRLF. */
  static String trailers(String chunkedBody) {
    int at = 0;
    while (true) {
      int eol = chunkedBody.indexOf("\r\n", at);
      assertThat(eol).as("a chunk size line in " + chunkedBody).isGreaterThanOrEqualTo(0);
      String sizeLine = chunkedBody.substring(at, eol);
      int semi = sizeLine.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip(), 16);
      if (size == 0) {
        int end = chunkedBody.indexOf("\r\n\r\n", eol);
        return end < 0 || end == eol ? "" : chunkedBody.substring(eol + 2, end + 2);
      }
      at = eol + 2 + size + 2;
    }
  }
}
