package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input policy table (docs/security.md), one row per input, each sent over a raw socket to
 * a real hoptrace in front of an app that records what reached it. Every refused row: the status,
 * the connection closed, nothing forwarded, and the proxy still serving afterwards. Rows the guard
 * refuses also give one span line with {@code error} and one count on {@code
 * hoptrace.refusals.<reason>}, whether the head guard below the parser or the guard handler
 * answered (no row is left to Undertow's own parser, whose fixed 400 has no span).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputPolicyTest extends GuardHarness {
  record Row(String name, String request, int status, RefusalReason reason) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final String H = "Host: app\r\n";

  static Row guard(String name, String request, RefusalReason reason) {
    return new Row(name, request, reason.status(), reason);
  }

  static String post(String headers, String body) {
    return "POST /upload HTTP/1.1\r\n" + H + headers + "\r\n" + body;
  }

  static final String CHUNKED_BODY = "4\r\nabcd\r\n0\r\n\r\n";

  static Stream<Row> rows() {
    return Stream.of(
        // Framing: Content-Length with Transfer-Encoding, and every TE but a lone final chunked.
        guard(
            "content-length with transfer-encoding",
            post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te xchunked",
            post("Transfer-Encoding: xchunked\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te on a line starting with a space",
            "POST /upload HTTP/1.1\r\n Transfer-Encoding: chunked\r\n" + H + "\r\n" + CHUNKED_BODY,
            RefusalReason.BAD_HEADER),
        guard(
            "te quoted",
            post("Transfer-Encoding: \"chunked\"\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te duplicated lines",
            post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te chunked twice in one line",
            post("Transfer-Encoding: chunked, chunked\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te with vertical tab",
            post("Transfer-Encoding: chunked\u000b\r\n", CHUNKED_BODY),
            RefusalReason.BAD_HEADER),
        guard(
            "te chunked not last",
            post("Transfer-Encoding: chunked, gzip\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te unknown coding before chunked",
            post("Transfer-Encoding: gzip, chunked\r\n", CHUNKED_BODY),
            RefusalReason.UNSUPPORTED_TRANSFER_CODING),
        guard(
            "te with a parameter",
            post("Transfer-Encoding: chunked;q=1\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "http/1.0 with te",
            "POST /upload HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n" + CHUNKED_BODY,
            RefusalReason.BAD_TRANSFER_ENCODING),
        // Chunk framing, sent with the head (arriving later: BodyFramingTest, also 400 and closed).
        guard(
            "chunk size not hex",
            post("Transfer-Encoding: chunked\r\n", "zz\r\nabcd\r\n0\r\n\r\n"),
            RefusalReason.BAD_CHUNKED_BODY),
        guard(
            "bare lf chunk lines",
            post("Transfer-Encoding: chunked\r\n", "4\nabcd\n0\n\n"),
            RefusalReason.BAD_CHUNKED_BODY),
        guard(
            "request smuggled behind a short chunk",
            post(
                "Transfer-Encoding: chunked\r\n",
                "2\r\nab\r\nGET /smuggled HTTP/1.1\r\n" + H + "\r\n0\r\n\r\n"),
            RefusalReason.BAD_CHUNKED_BODY),
        // Content-Length.
        guard(
            "cl with sign",
            post("Content-Length: +4\r\n", "abcd"),
            RefusalReason.BAD_CONTENT_LENGTH),
        guard(
            "cl negative",
            post("Content-Length: -1\r\n", "abcd"),
            RefusalReason.BAD_CONTENT_LENGTH),
        guard("cl hex", post("Content-Length: 0x4\r\n", "abcd"), RefusalReason.BAD_CONTENT_LENGTH),
        guard("cl empty", post("Content-Length: \r\n", "abcd"), RefusalReason.BAD_CONTENT_LENGTH),
        guard(
            "cl list", post("Content-Length: 4, 4\r\n", "abcd"), RefusalReason.BAD_CONTENT_LENGTH),
        guard(
            "cl differing duplicates",
            post("Content-Length: 4\r\nContent-Length: 5\r\n", "abcde"),
            RefusalReason.BAD_CONTENT_LENGTH),
        guard(
            "cl identical duplicates",
            post("Content-Length: 4\r\nContent-Length: 4\r\n", "abcd"),
            RefusalReason.BAD_CONTENT_LENGTH),
        guard(
            "cl overflow",
            post("Content-Length: 99999999999999999999\r\n", "abcd"),
            RefusalReason.BAD_CONTENT_LENGTH),
        // Header syntax.
        guard(
            "whitespace before the colon",
            "GET / HTTP/1.1\r\nHost : app\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "whitespace before the colon, other header",
            "GET / HTTP/1.1\r\n" + H + "X-A : b\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "bare cr in a value",
            "GET / HTTP/1.1\r\n" + H + "X-A: b\rc\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "nul in a value",
            "GET / HTTP/1.1\r\n" + H + "X-A: b\u0000c\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "ctl 0x01 in a value",
            "GET / HTTP/1.1\r\n" + H + "X-A: b\u0001c\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "del in a value",
            "GET / HTTP/1.1\r\n" + H + "X-A: b\u007fc\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "obs-fold",
            "GET / HTTP/1.1\r\n" + H + "X-A: b\r\n c\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "obs-fold hiding transfer-encoding",
            post("X-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "abcd"),
            RefusalReason.BAD_HEADER),
        guard(
            "empty header name",
            "GET / HTTP/1.1\r\n" + H + ": b\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "host with an empty port",
            "GET / HTTP/1.1\r\nHost: app:\r\n\r\n",
            RefusalReason.BAD_HOST),
        guard("empty host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", RefusalReason.BAD_HOST),
        guard(
            "empty line before the request line",
            "\r\nGET / HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "bare cr before the request line",
            "\rGET / HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "method not a token",
            "G(T / HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "bare cr in the request line",
            "GET / HTTP/1.1\rX\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "cl with te, te first",
            post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "te with an empty coding",
            post("Transfer-Encoding: gzip,,chunked\r\n", CHUNKED_BODY),
            RefusalReason.BAD_TRANSFER_ENCODING),
        guard(
            "non-token name",
            "GET / HTTP/1.1\r\n" + H + "X(A): b\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "space in a name",
            "GET / HTTP/1.1\r\n" + H + "X A: b\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "line without a colon",
            "GET / HTTP/1.1\r\n" + H + "garbage\r\n\r\n",
            RefusalReason.BAD_HEADER),
        guard(
            "bare lf line endings",
            "GET / HTTP/1.1\nHost: app\n\n",
            RefusalReason.BAD_REQUEST_LINE),
        // Host.
        guard("missing host", "GET / HTTP/1.1\r\n\r\n", RefusalReason.BAD_HOST),
        guard(
            "duplicate host",
            "GET / HTTP/1.1\r\n" + H + "Host: other\r\n\r\n",
            RefusalReason.BAD_HOST),
        guard("host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", RefusalReason.BAD_HOST),
        guard(
            "target without a leading slash",
            "GET upload HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "target scheme without //",
            "GET http:x HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "host with userinfo",
            "GET / HTTP/1.1\r\nHost: user@app\r\n\r\n",
            RefusalReason.BAD_HOST),
        guard(
            "host with a bad port",
            "GET / HTTP/1.1\r\nHost: app:99999\r\n\r\n",
            RefusalReason.BAD_HOST),
        guard("host with port 0", "GET / HTTP/1.1\r\nHost: app:0\r\n\r\n", RefusalReason.BAD_HOST),
        // A '%' must be followed by two hex digits (found by RequestFuzzTest: "Host: %pp" got
        // Undertow's own bare 400).
        guard("host with %pp", "GET / HTTP/1.1\r\nHost: %pp\r\n\r\n", RefusalReason.BAD_HOST),
        guard(
            "host ending in a cut %",
            "GET / HTTP/1.1\r\nHost: app%4\r\n\r\n", RefusalReason.BAD_HOST),
        guard(
            "host with % before the port",
            "GET / HTTP/1.1\r\nHost: app%:80\r\n\r\n", RefusalReason.BAD_HOST),
        // Request line and version.
        guard(
            "double space in the request line",
            "GET  / HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard(
            "extra token after the version",
            "GET / HTTP/1.1 x\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard("no version", "GET /\r\n\r\n", RefusalReason.BAD_REQUEST_LINE),
        guard("not http", "GET / FOO/1.1\r\n" + H + "\r\n", RefusalReason.BAD_REQUEST_LINE),
        guard(
            "http/2.0 without prior knowledge",
            "GET / HTTP/2.0\r\n" + H + "\r\n",
            RefusalReason.BAD_VERSION),
        guard("http/1.2 version", "GET / HTTP/1.2\r\n" + H + "\r\n", RefusalReason.BAD_VERSION),
        guard("http/3.0 version", "GET / HTTP/3.0\r\n" + H + "\r\n", RefusalReason.BAD_VERSION),
        guard(
            "two-digit major version",
            "GET / HTTP/11.1\r\n" + H + "\r\n",
            RefusalReason.BAD_REQUEST_LINE),
        guard("http/0.9 version", "GET / HTTP/0.9\r\n" + H + "\r\n", RefusalReason.BAD_VERSION),
        // Sizes.
        guard(
            "request line over 8 KiB",
            "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.REQUEST_LINE_TOO_LONG),
        guard(
            "headers over 32 KiB",
            "GET / HTTP/1.1\r\n" + H + headers(40, 1000) + "\r\n",
            RefusalReason.HEADERS_TOO_LARGE),
        guard(
            "more than 100 headers",
            "GET / HTTP/1.1\r\n" + H + headers(101, 10) + "\r\n",
            RefusalReason.TOO_MANY_HEADERS),
        guard(
            "head past the parser's hard cap",
            "GET / HTTP/1.1\r\n" + H + headers(90, 1000) + "\r\n",
            RefusalReason.HEADERS_TOO_LARGE),
        guard(
            "more headers than the parser's hard cap",
            "GET / HTTP/1.1\r\n" + H + headers(201, 4) + "\r\n",
            RefusalReason.TOO_MANY_HEADERS),
        // CRLF and controls smuggled into the target.
        guard(
            "encoded crlf in the path",
            "GET /a%0d%0aX-Injected:%20yes HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH),
        guard(
            "encoded nul in the query",
            "GET /a?b=%00 HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH),
        guard(
            "raw control in the path",
            "GET /a\u0001b HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH),
        // Unescaped characters a lenient parser would decode or pass: refused, never re-encoded.
        guard("raw pipe in the path", "GET /a|b HTTP/1.1\r\n" + H + "\r\n", RefusalReason.BAD_PATH),
        guard(
            "raw braces in the query",
            "GET /a?b={x} HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH),
        guard(
            "raw non-ascii byte in the path",
            "GET /caf\u00e9 HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH),
        guard(
            "fragment in the target", "GET /a#b HTTP/1.1\r\n" + H + "\r\n", RefusalReason.BAD_PATH),
        guard(
            "malformed percent-encoding",
            "GET /a%zz HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH),
        guard(
            "percent-encoding cut short",
            "GET /a%4 HTTP/1.1\r\n" + H + "\r\n",
            RefusalReason.BAD_PATH));
  }

  static String headers(int count, int valueLength) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < count; i++)
      b.append("X-H").append(i).append(": ").append("v".repeat(valueLength)).append("\r\n");
    return b.toString();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void refused_closed_nothingForwarded(Row row) throws Exception {
    start();
    Raw answer = send(row.request());

    assertThat(answer.status()).as(answer.toString()).isEqualTo(row.status());
    assertThat(answer.closed()).as("closed after the answer: " + answer).isTrue();
    Thread.sleep(100);
    assertThat(app.requests).as("forwarded to the app").isEmpty();
    assertThat(refusals(row.reason())).isEqualTo(1);
    assertThat(answer.header("Proxy-Status")).startsWith("hoptrace; error=");
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0)).contains("\"error\":\"refused: " + row.reason().tagValue());
    assertThat(spans.get(0)).contains("\"http.status_code\":\"" + row.status() + "\"");
    assertThat(spans.get(0)).doesNotContain("\r").doesNotContain("\\u0000");
    assertStillServes();
  }
}
