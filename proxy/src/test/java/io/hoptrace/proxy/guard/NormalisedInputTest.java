package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The policy rows whose answer is not a refusal: what hoptrace passes on, and in what form. Each
 * checks what the app received, byte for byte where it matters.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class NormalisedInputTest extends GuardHarness {
  @Test
  void underscoreHeader_isDropped_byDefault() throws Exception {
    start();
    Raw answer =
        send(
            "GET / HTTP/1.1\r\nHost: app\r\nX_User: admin\r\nX-Ok: 1\r\nConnection: close\r\n\r\n");
    assertThat(answer.status()).isEqualTo(200);
    String received = app.requests.get(0).toLowerCase(Locale.ROOT);
    assertThat(received).contains("x-ok: 1").doesNotContain("x_user");
  }

  @Test
  void underscoreHeader_isRefused_whenConfiguredToReject() throws Exception {
    start("limits.underscore-headers", "reject");
    Raw answer = send("GET / HTTP/1.1\r\nHost: app\r\nX_User: admin\r\n\r\n");
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.closed()).isTrue();
    assertThat(app.heads).isEmpty();
    assertThat(refusals(RefusalReason.UNDERSCORE_HEADER)).isEqualTo(1);
    assertThat(awaitSpans(1).get(0)).contains("refused: underscore_header");
  }

  @Test
  void underscoreHeader_isPassed_whenAllowed() throws Exception {
    start("limits.underscore-headers", "allow");
    send("GET / HTTP/1.1\r\nHost: app\r\nX_User: admin\r\nConnection: close\r\n\r\n");
    assertThat(app.requests.get(0)).contains("X_User: admin");
  }

  @Test
  void hopByHopRequestHeaders_neverReachTheApp() throws Exception {
    start();
    Raw answer =
        send(
            "GET / HTTP/1.1\r\nHost: app\r\nConnection: close, X-Secret, Upgrade, HTTP2-Settings\r\n"
                + "X-Secret: s\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eDp5\r\n"
                + "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nX-Kept: yes\r\n\r\n");
    assertThat(answer.status()).isEqualTo(200);
    String received = app.requests.get(0).toLowerCase(Locale.ROOT);
    assertThat(received).contains("x-kept: yes");
    for (String hop :
        new String[] {
          "x-secret",
          "keep-alive",
          "proxy-authorization",
          "proxy-connection",
          "\r\nte:",
          "trailer",
          "upgrade",
          "http2-settings"
        }) {
      assertThat(received).as(hop).doesNotContain(hop);
    }
  }

  @Test
  void webSocketUpgrade_isNotPassedOn() throws Exception {
    start();
    send(
        "GET /ws HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    String received = app.requests.get(0).toLowerCase(Locale.ROOT);
    assertThat(received).doesNotContain("upgrade:");
  }

  @Test
  void hopByHopResponseHeaders_neverReachTheClient() throws Exception {
    app.answer =
        request ->
            "HTTP/1.1 200 OK\r\nConnection: X-Internal\r\nX-Internal: i\r\nKeep-Alive: timeout=5\r\n"
                + "Proxy-Authenticate: Basic\r\nTrailer: X-T\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAAQAAP__\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok";
    start();
    Raw answer = send("GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.header("X-Kept")).isEqualTo("yes");
    for (String hop :
        new String[] {
          "X-Internal", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade", "HTTP2-Settings"
        }) {
      assertThat(answer.header(hop)).as(hop).isNull();
    }
  }

  @Test
  void chunkedWithOptionalWhitespace_isForwardedRechunked() throws Exception {
    start();
    Raw answer =
        send(
            "POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding:  chunked \r\nConnection: close\r\n\r\n"
                + "4\r\nabcd\r\n0\r\n\r\n");
    assertThat(answer.status()).isEqualTo(200);
    assertThat(app.requests.get(0)).contains("abcd").endsWith("0\r\n\r\n");
  }

  @Test
  void encodedDotSegmentsAndPercent_reachTheAppAsSent() throws Exception {
    start();
    send("GET /a/%2e%2e/admin/%252e?x=%26 HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(app.requests.get(0)).startsWith("GET /a/%2e%2e/admin/%252e?x=%26 HTTP/1.1\r\n");
  }

  @Test
  void encodedSlashAndUnicode_reachTheAppAsSent() throws Exception {
    start();
    send("GET /a%2Fb/%C3%A9?q=%20x HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
    assertThat(app.requests.get(0)).startsWith("GET /a%2Fb/%C3%A9?q=%20x HTTP/1.1\r\n");
  }
}
