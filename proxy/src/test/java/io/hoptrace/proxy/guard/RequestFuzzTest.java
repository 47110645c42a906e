package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.Hoptrace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random bytes into the request parser and the header codecs of one running hoptrace: every
 * connection ends (an HTTP answer or a close) within a few seconds, no handler throws (no 500), and
 * a normal request is still served after each try. Bounded: a few hundred tries, each a few
 * milliseconds; more with {@code -Djqwik.tries.default=N}.
 */
@SuppressWarnings("StringConcatToTextBlock") // raw CRLF requests read better as lines
class RequestFuzzTest {
  static final int TIMEOUT = 5000;
  static final String[] TEMPLATES = {
    "GET /orders/42?x=1 HTTP/1.1\r\nHost: app\r\nX-Request-Id: r1\r\n\r\n",
    "POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\n\r\nabcd",
    "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: app\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
        + "tracestate: a=1,b=2\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: app\r\nb3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: app\r\nX-B3-TraceId: 80f198ee56343ba8\r\nX-B3-SpanId: e457b5a2e4d86bd1\r\n"
        + "X-B3-Sampled: 1\r\n\r\n",
  };

  static RecordingApp app;
  static Hoptrace hoptrace;
  static Path dir;

  @BeforeContainer
  static void start() throws Exception {
    app = new RecordingApp();
    dir = Files.createTempDirectory("hoptrace-fuzz");
    hoptrace =
        Hoptrace.start(
            Settings.load(
                null,
                Map.of(),
                Map.of(
                    "inbound.host", "127.0.0.1",
                    "inbound.port", "0",
                    "app", "127.0.0.1:" + app.port(),
                    "span-log.path", dir.resolve("spans.log").toString(),
                    "limits.header-timeout", "1s",
                    "upstream.idle-timeout", "2s",
                    "upstream.response-timeout", "2s",
                    "drain-time", "1s")),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
  }

  @AfterContainer
  static void stop() throws IOException {
    hoptrace.close();
    app.close();
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) Files.delete(p);
    }
    Files.delete(dir);
  }

  @Property(tries = 150)
  void randomBytes_answeredOrClosed_proxyStillServes(@ForAll("randomBytes") byte[] request)
      throws IOException {
    check(request);
  }

  @Property(tries = 250)
  void mutatedRequests_answeredOrClosed_proxyStillServes(@ForAll("mutated") byte[] request)
      throws IOException {
    check(request);
  }

  @Property(tries = 150)
  void randomTraceHeaders_neverBreakTheRequest(
      @ForAll("headerNames") String name, @ForAll("headerValues") String value) throws IOException {
    Raw answer =
        Raw.send(
            inbound(),
            "GET /t HTTP/1.1\r\nHost: app\r\n"
                + name
                + ": "
                + value
                + "\r\nConnection: close\r\n\r\n",
            TIMEOUT);
    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
  }

  private static void check(byte[] request) throws IOException {
    long start = System.nanoTime();
    Raw answer;
    try (Socket socket = new Socket()) {
      socket.connect(inbound(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      try {
        socket.getOutputStream().write(request);
        socket.shutdownOutput();
      } catch (IOException e) {
        // closed on us early: fine, the answer (if any) is still readable
      }
      answer = Raw.read(socket, start);
    }
    assertThat(answer.closed()).as("ended within " + TIMEOUT + " ms: " + answer).isTrue();
    assertThat(answer.text().isEmpty() || answer.text().startsWith("HTTP/1.1 "))
        .as(answer.toString())
        .isTrue();
    assertThat(answer.text()).as("no handler threw").doesNotContain("HTTP/1.1 500");
    // Every refusal is hoptrace's own (with Proxy-Status, a span line and a counter), never
    // Undertow's fixed parse-error answer, which has neither.
    for (int at = answer.text().indexOf("HTTP/1.1 4"); at >= 0; ) {
      int next = answer.text().indexOf("HTTP/1.1 ", at + 1);
      String response = next < 0 ? answer.text().substring(at) : answer.text().substring(at, next);
      assertThat(response)
          .as("a refusal of ours: " + answer + " for " + escaped(request))
          .contains("Proxy-Status: hoptrace");
      at = next < 0 ? -1 : answer.text().indexOf("HTTP/1.1 4", next);
    }
    Raw ok =
        Raw.send(inbound(), "GET /ok HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n", TIMEOUT);
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
  }

  private static String escaped(byte[] request) {
    StringBuilder b = new StringBuilder();
    for (byte x : request) {
      int c = x & 0xff;
      if (c >= 0x20 && c < 0x7f) {
        b.append((char) c);
      } else {
        b.append(String.format("\\x%02x", c));
      }
    }
    return b.toString();
  }

  private static InetSocketAddress inbound() {
    return hoptrace.inboundAddress();
  }

  @Provide
  Arbitrary<byte[]> randomBytes() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(600);
  }

  /** A valid request with a few bytes replaced, inserted or cut: the parser's edge cases. */
  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<String> template = Arbitraries.of(TEMPLATES);
    Arbitrary<Integer> position = Arbitraries.integers().between(0, 10_000);
    Arbitrary<Byte> value =
        Arbitraries.oneOf(
            Arbitraries.bytes(),
            Arbitraries.of(
                (byte) '\r', (byte) '\n', (byte) ' ', (byte) ':', (byte) 0, (byte) '\t'));
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
    return Combinators.combine(
            template, position, value, kind, Arbitraries.integers().between(1, 4))
        .as(
            (t, pos, b, k, times) -> {
              byte[] bytes = t.getBytes(StandardCharsets.ISO_8859_1);
              for (int i = 0; i < times; i++)
                bytes = mutate(bytes, (pos * (i + 7)) % bytes.length, b, k);
              return bytes;
            });
  }

  private static byte[] mutate(byte[] bytes, int at, byte b, int kind) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(bytes, 0, at);
    switch (kind) {
      case 0 -> { // replace
        out.write(b);
        out.write(bytes, at + 1, bytes.length - at - 1);
      }
      case 1 -> { // insert
        out.write(b);
        out.write(bytes, at, bytes.length - at);
      }
      default -> out.write(bytes, at + 1, bytes.length - at - 1); // delete
    }
    return out.toByteArray();
  }

  @Provide
  Arbitrary<String> headerNames() {
    return Arbitraries.of(
        "traceparent",
        "tracestate",
        "b3",
        "X-B3-TraceId",
        "X-B3-SpanId",
        "X-B3-ParentSpanId",
        "X-B3-Sampled",
        "X-B3-Flags",
        "X-Request-Id");
  }

  /** Any header value the parser accepts: visible ASCII, spaces, tabs, obs-text. */
  @Provide
  Arbitrary<String> headerValues() {
    return Arbitraries.strings()
        .withCharRange('!', '~')
        .withChars(' ', '\t', '-', '0', 'f', '\u0080', '\u00ff')
        .ofMinLength(1)
        .ofMaxLength(300)
        .map(String::strip)
        .filter(s -> !s.isEmpty());
  }
}
