package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
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
 * forwarded. Arriving once forwarding has begun, hoptrace cuts both connections and the app never
 * gets a complete request (its body stops mid-chunk, so no request can be smuggled behind it).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class BodyFramingTest extends GuardHarness {
  record Row(String name, String body) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Row> rows() {
    return Stream.of(
        new Row("chunk size not hex", "zz\r\nabcd\r\n0\r\n\r\n"),
        new Row("chunk size overflow", "fffffffffffffffffff\r\nabcd\r\n0\r\n\r\n"),
        new Row("chunk size with sign", "+4\r\nabcd\r\n0\r\n\r\n"),
        new Row("bare lf chunk lines", "4\nabcd\n0\n\n"),
        new Row("chunk data not followed by crlf", "4\r\nabcdXX0\r\n\r\n"),
        new Row("chunk data longer than its size", "2\r\nabcd\r\n0\r\n\r\n"),
        new Row(
            "smuggled request behind a short chunk",
            "2\r\nab\r\nGET /smuggled HTTP/1.1\r\nHost: app\r\n\r\n0\r\n\r\n"));
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
    Raw answer =
        send(
            "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
                + row.body());
    assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
    assertThat(answer.closed()).isTrue();
    Thread.sleep(100);
    assertThat(app.heads).as("nothing forwarded").isEmpty();
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0)).contains("\"error\":\"refused: bad_chunked_body");
    assertStillServes();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void badChunkAfterForwardingBegan_cutsTheExchange_appGetsNoCompleteRequest(Row row)
      throws Exception {
    start();
    Raw answer;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      long start = System.nanoTime();
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "4\r\nwxyz\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      Thread.sleep(300); // the head and a first chunk are on their way to the app
      try {
        out.write(row.body().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (IOException e) {
        // already cut
      }
      answer = Raw.read(socket, start);
    }
    assertThat(answer.closed()).as(answer.toString()).isTrue();
    // The head was valid and forwarding had begun: the only honest answer left is a cut.
    assertThat(answer.status()).as(answer.toString()).isEqualTo(-1);
    Thread.sleep(200);
    assertThat(app.requests).as("complete requests at the app").isEmpty();
    assertThat(String.join("", app.heads)).doesNotContain("/smuggled");
    assertThat(refusals(RefusalReason.BAD_CHUNKED_BODY)).isEqualTo(1);
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0)).contains("\"error\":\"client abort: malformed chunked body");
    assertStillServes();
  }
}
