package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad chunk framing in a body. Arriving with the head, it is refused with 400 before anything is
 * forwarded. Arriving once forwarding has begun, the upstream request is aborted (the app never
 * gets a complete request: its body stops mid-chunk, so no request can be smuggled behind it) and
 * the client is still answered 400 and closed, unless the app's response has already started
 * towards it: then the only honest answer left is a cut connection.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class BodyFramingTest extends GuardHarness {
  static final String HEAD =
      "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n";

  /** A bad body, and what the span's error says broke. */
  record Row(String name, String body, String why) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Row> rows() {
    return Stream.of(
        new Row("chunk size not hex", "zz\r\nabcd\r\n0\r\n\r\n", "bad chunk size"),
        new Row(
            "chunk size overflow",
            "fffffffffffffffffff\r\nabcd\r\n0\r\n\r\n",
            "chunk size overflow"),
        new Row("chunk size with sign", "+4\r\nabcd\r\n0\r\n\r\n", "bad chunk size"),
        new Row("bare lf chunk lines", "4\nabcd\n0\n\n", "bad chunk size"),
        new Row(
            "chunk data not followed by crlf",
            "4\r\nabcdXX0\r\n\r\n",
            "chunk data longer than its size, or not ended by CRLF"),
        new Row(
            "chunk data longer than its size",
            "2\r\nabcd\r\n0\r\n\r\n",
            "chunk data longer than its size, or not ended by CRLF"),
        new Row(
            "smuggled request behind a short chunk",
            "2\r\nab\r\nGET /smuggled HTTP/1.1\r\nHost: app\r\n\r\n0\r\n\r\n",
            "bad chunk size"));
  }

  @Test
  void validChunkedBody_withExtensionAndTrailer_isForwarded() throws Exception {
    start();
    Raw answer =
        send(
            "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n4;name=v\r\nabcd\r\n0\r\nX-Sum: 1\r\n\r\n");
    assertThat(answer.status()).isEqualTo(200);
    assertThat(app.requests.get(0)).contains("abcd");
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isZero();
  }

  @Test
  void validChunkedBody_arrivingInPiecesAfterTheHead_isForwardedByteExact() throws Exception {
    start();
    byte[] data = new byte[40_000];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31 + (i >> 7));
    // Chunks of odd sizes, cut into writes at awkward places (between CR and LF, inside a size),
    // so the check meets every state at a read boundary while the forwarder is reading.
    StringBuilder body = new StringBuilder();
    int[] sizes = {1, 0x1000, 3, 0x3abc, 17, 0x10};
    int at = 0;
    for (int i = 0; at < data.length; i++) {
      int size = Math.min(sizes[i % sizes.length], data.length - at);
      body.append(Integer.toHexString(size)).append(i % 2 == 0 ? "\r\n" : ";x=y\r\n");
      body.append(new String(data, at, size, StandardCharsets.ISO_8859_1)).append("\r\n");
      at += size;
    }
    body.append("0\r\nX-Sum: 1\r\n\r\n");
    byte[] bodyBytes = body.toString().getBytes(StandardCharsets.ISO_8859_1);
    Raw answer;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      long start = System.nanoTime();
      OutputStream out = socket.getOutputStream();
      out.write(
          HEAD.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      awaitHeadAtTheApp();
      int[] cuts = {2, 4097, 4100, 8000, 20_011, 30_000, bodyBytes.length - 3, bodyBytes.length};
      int from = 0;
      for (int cut : cuts) {
        out.write(bodyBytes, from, cut - from);
        out.flush();
        from = cut;
        Thread.sleep(20);
      }
      answer = Raw.read(socket, start);
    }
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
    String request = app.requests.get(0);
    byte[] received = dechunk(request.substring(request.indexOf("\r\n\r\n") + 4));
    assertThat(received).as("the body the app got, de-chunked").isEqualTo(data);
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isZero();
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0)).doesNotContain("\"error\"");
  }

  @Test
  void pipelinedRequestAfterAChunkedBody_isServedToo() throws Exception {
    start();
    Raw answer =
        send(
            "POST /one HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4\r\nabcd\r\n0\r\n\r\n"
                + "GET /two HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(answer.text().split("HTTP/1.1 200", -1)).hasSize(3);
    assertThat(app.requests).hasSize(2);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void badChunkWithTheHead_400_nothingForwarded(Row row) throws Exception {
    start();
    Raw answer = send(HEAD + row.body());
    assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
    assertThat(answer.closed()).isTrue();
    Thread.sleep(100);
    assertThat(app.heads).as("nothing forwarded").isEmpty();
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0)).contains("\"error\":\"refused: bad_chunked_body: " + row.why());
    assertStillServes();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void badChunkAfterForwardingBegan_400_closed_appGetsNoCompleteRequest(Row row) throws Exception {
    start();
    Raw answer;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      OutputStream out = socket.getOutputStream();
      out.write((HEAD + "4\r\nwxyz\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      awaitHeadAtTheApp(); // forwarding has begun: the app has the head (and maybe "wxyz")
      long start = System.nanoTime();
      try {
        out.write(row.body().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (IOException e) {
        // already answered and closed
      }
      answer = Raw.read(socket, start);
    }
    assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
    assertThat(answer.closed()).as("closed after the answer: " + answer).isTrue();
    assertThat(answer.millis()).as("answered at once").isLessThan(TIMEOUT - 500);
    assertThat(answer.header("Connection")).isEqualTo("close");
    assertThat(answer.header("Proxy-Status"))
        .isEqualTo("hoptrace; error=http_request_error; details=\"bad_chunked_body\"");
    assertThat(answer.text()).endsWith("\r\n\r\nhoptrace: malformed chunked body\n");
    Thread.sleep(200);
    assertThat(app.requests).as("complete requests at the app").isEmpty();
    assertThat(app.heads).hasSize(1);
    assertThat(String.join("", app.heads)).doesNotContain("/smuggled");
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    assertThat(awaitSpans(1)).isNotEmpty();
    Thread.sleep(200); // a second span line would be written by now
    List<String> spans = spanLines();
    assertThat(spans).as("one span line for the exchange").hasSize(1);
    assertThat(spans.get(0))
        .contains("\"error\":\"refused: bad_chunked_body: " + row.why() + "\"")
        .contains("\"http.status_code\":\"400\"")
        .contains("\"http.path\":\"/upload\"");
    ByteArrayOutputStream metrics = new ByteArrayOutputStream();
    hoptrace.metrics().writePrometheusText(metrics);
    assertThat(metrics.toString(StandardCharsets.UTF_8))
        .as("a refusal, not an upstream error")
        .contains("hoptrace_upstream_errors_client_abort_total 0.0")
        .doesNotContain("hoptrace_upstream_errors_refused");
    assertStillServes();
  }

  @Test
  void badChunkAfterForwardingBegan_onTheForwardProxy_400_oneClientSpan() throws Exception {
    start("outbound.port", "0");
    String target = "127.0.0.1:" + app.port();
    Raw answer;
    try (Socket socket = new Socket()) {
      socket.connect(hoptrace.outbound().forwardProxyAddress(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST http://"
                  + target
                  + "/upload HTTP/1.1\r\nHost: "
                  + target
                  + "\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      awaitHeadAtTheApp();
      long start = System.nanoTime();
      out.write("2\r\nabcd\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      answer = Raw.read(socket, start);
    }
    assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
    assertThat(answer.closed()).isTrue();
    assertThat(answer.header("Proxy-Status"))
        .isEqualTo("hoptrace; error=http_request_error; details=\"bad_chunked_body\"");
    Thread.sleep(200);
    assertThat(app.requests).as("complete requests at the target").isEmpty();
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    assertThat(awaitSpans(1)).isNotEmpty();
    Thread.sleep(200);
    List<String> spans = spanLines();
    assertThat(spans).as("one span line for the exchange").hasSize(1);
    assertThat(spans.get(0))
        .contains("\"kind\":\"CLIENT\"")
        .contains(
            "\"error\":\"refused: bad_chunked_body: "
                + "chunk data longer than its size, or not ended by CRLF\"")
        .contains("\"http.status_code\":\"400\"");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void badChunkAfterTheAppsResponseStarted_cutsTheExchange(Row row) throws Exception {
    start();
    // The app answers as soon as it has the head, before reading the body, and keeps its response
    // open (chunked, not finished): hoptrace relays its start to the client.
    app.answerBeforeBody = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nearly\r\n";
    Raw answer = sendAfterTheAppsEarlyAnswer(row.body());
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(answer.closed()).as(answer.toString()).isTrue();
    assertThat(answer.text()).as("no second answer").doesNotContain(" 400 ");
    assertThat(answer.text()).as("the relayed response never ends").doesNotContain("0\r\n\r\n");
    Thread.sleep(200);
    assertThat(app.requests).as("complete requests at the app").isEmpty();
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    assertThat(awaitSpans(1)).isNotEmpty();
    Thread.sleep(200);
    List<String> spans = spanLines();
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0))
        .contains("\"error\":\"client abort: malformed chunked body: " + row.why() + "\"")
        .contains("\"http.status_code\":\"200\"");
    app.answerBeforeBody = null;
    assertStillServes();
  }

  @Test
  void badChunkAfterTheAppAnsweredInFull_cutsTheConnection() throws Exception {
    start();
    // The exchange has ended; Undertow reads the rest of the body to keep the connection, and
    // nobody can answer any more: the violation cuts.
    app.answerBeforeBody = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly";
    Raw answer = sendAfterTheAppsEarlyAnswer("zz\r\nabcd\r\n0\r\n\r\n");
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(answer.closed()).as(answer.toString()).isTrue();
    assertThat(answer.text()).as("no second answer").doesNotContain(" 400 ");
    Thread.sleep(200);
    assertThat(app.requests).as("complete requests at the app").isEmpty();
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    assertThat(awaitSpans(1)).isNotEmpty();
    Thread.sleep(200);
    List<String> spans = spanLines();
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0))
        .contains("\"error\":\"client abort: malformed chunked body: bad chunk size\"")
        .contains("\"http.status_code\":\"200\"");
    app.answerBeforeBody = null;
    assertStillServes();
  }

  @Test
  void goodChunksAfterTheAppAnsweredInFull_neverReachTheAppAsAShorterCompleteRequest()
      throws Exception {
    start();
    // Once the exchange has ended, Undertow drains the rest of the body itself: the upstream
    // request cannot be given the rest any more, and must not be ended early either (the app would
    // get a complete request with a body shorter than the client's).
    app.answerBeforeBody = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly";
    Raw answer = sendAfterTheAppsEarlyAnswer("4\r\nabcd\r\n0\r\n\r\n");
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    Thread.sleep(300);
    assertThat(app.requests).as("complete requests at the app").isEmpty();
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isZero();
    app.answerBeforeBody = null;
    assertStillServes();
  }

  /** Waits up to 3 s for the app to have received a request head. */
  private void awaitHeadAtTheApp() throws InterruptedException {
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (app.heads.isEmpty() && System.nanoTime() < deadline) Thread.sleep(5);
    assertThat(app.heads).as("the head reached the app").hasSize(1);
  }

  /** Reads from {@code socket} until {@code marker} has arrived; what was read. */
  private static String readUntil(Socket socket, String marker) throws IOException {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[1024];
    while (!seen.toString(StandardCharsets.ISO_8859_1).contains(marker)) {
      int n = in.read(buf);
      if (n < 0) break;
      seen.write(buf, 0, n);
    }
    return seen.toString(StandardCharsets.ISO_8859_1);
  }

  /** The data of a chunked body (trailers ignored). */
  private static byte[] dechunk(String body) {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    int i = 0;
    while (true) {
      int eol = body.indexOf("\r\n", i);
      String sizeLine = body.substring(i, eol);
      int semi = sizeLine.indexOf(';');
      int size = Integer.parseInt(semi < 0 ? sizeLine : sizeLine.substring(0, semi), 16);
      if (size == 0) return data.toByteArray();
      data.writeBytes(
          body.substring(eol + 2, eol + 2 + size).getBytes(StandardCharsets.ISO_8859_1));
      assertThat(body.substring(eol + 2 + size, eol + 4 + size)).isEqualTo("\r\n");
      i = eol + 4 + size;
    }
  }

  /**
   * Sends the head and a first good chunk, waits until the app's early answer ("early") has come
   * back, then sends {@code rest}; returns everything the client got, and whether it was closed.
   */
  private Raw sendAfterTheAppsEarlyAnswer(String rest) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      long start = System.nanoTime();
      OutputStream out = socket.getOutputStream();
      out.write((HEAD + "4\r\nwxyz\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String begun = readUntil(socket, "early");
      try {
        out.write(rest.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (IOException e) {
        // already cut
      }
      Raw after = Raw.read(socket, start);
      return new Raw(begun + after.text(), after.closed(), after.millis());
    }
  }
}
