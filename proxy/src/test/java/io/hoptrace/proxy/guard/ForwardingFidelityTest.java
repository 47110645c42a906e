package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a well-formed message keeps on its way through: trailers of a chunked body (both ways,
 * hop-by-hop fields dropped) and no header the sender did not send. Raw client, raw recording app:
 * the bytes on each side are what is asserted. Runs on the default transport; {@link
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
