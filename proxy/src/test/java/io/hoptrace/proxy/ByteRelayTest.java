package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.relay.ByteRelay;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What only the byte relay ({@code inbound.engine = relay}) does: the requests it carries itself
 * and the ones it hands to the Undertow path, heads that arrive in pieces or pipelined, one app
 * connection per caller connection, and each response framing passed through as the app wrote it.
 * (Every inbound and guard test runs on the relay, the default, and again on the Undertow path: the
 * *UndertowTest classes.)
 */
class ByteRelayTest extends InboundHarness {
  private @Nullable ScriptedApp scripted;

  ByteRelayTest() {
    inboundEngine = "relay";
  }

  @AfterEach
  void stopScripted() throws IOException {
    if (scripted != null) scripted.close();
  }

  private ByteRelay relay() {
    ByteRelay relay = hoptrace.inboundRelay();
    assertThat(relay).as("inbound.engine = relay").isNotNull();
    return relay;
  }

  @Test
  void carriesPlainRequestsItselfAndKeepsOneAppConnectionPerCallerConnection() throws Exception {
    start();
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = get("/orders/" + i + "?page=2");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("traceresponse")).isPresent();
      assertThat(response.headers().firstValue("via")).hasValue("1.1 hoptrace");
    }
    List<Integer> ports = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TestUpstream.Received r = app.take();
      assertThat(r.uri()).isEqualTo("/orders/" + i + "?page=2");
      assertThat(r.headers().get("Traceparent")).hasSize(1);
      assertThat(r.headers().get("X-forwarded-for")).containsExactly("127.0.0.1");
      ports.add(r.remotePort());
    }
    // the JDK client kept one connection: so did the relay, to the app
    assertThat(ports).containsOnly(ports.get(0));
    assertThat(relay().handedOver()).isZero();
    List<String> lines = SpanLines.await(spanLog, 3);
    assertThat(SpanLines.field(lines.get(2), "name")).isEqualTo("get /orders/2");
    assertThat(SpanLines.tag(lines.get(2), "http.path")).isEqualTo("/orders/2");
    assertThat(SpanLines.tag(lines.get(2), "http.status_code")).isEqualTo("200");
  }

  @Test
  void handsTheConnectionToUndertowForWhatItDoesNotCarry() throws Exception {
    start();
    // a chunked request body: handed over, forwarded there
    HttpResponse<String> chunked =
        client.send(
            HttpRequest.newBuilder(uri("/sink"))
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(new byte[70_000])))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(chunked.statusCode()).isEqualTo(200);
    assertThat(relay().handedOver()).isEqualTo(1);
    // a percent-encoded path: Undertow decodes it for the span, so it takes it
    try (Socket s = connect()) {
      send(s, "GET /a%20b HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    assertThat(relay().handedOver()).isEqualTo(2);
    List<String> lines = SpanLines.await(spanLog, 2);
    assertThat(SpanLines.tag(lines.get(1), "http.path")).isEqualTo("/a b");
  }

  @Test
  void aConnectionHandedOverBetweenRequestsKeepsItsBytes() throws Exception {
    start();
    try (Socket s = connect()) {
      // relayed, then a chunked body (handed over) pipelined behind a relayed one, then one more
      send(s, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      send(
          s,
          lines(
              "GET /second HTTP/1.1",
              "Host: x",
              "",
              "POST /sink HTTP/1.1",
              "Host: x",
              "Transfer-Encoding: chunked",
              "",
              "5",
              "hello",
              "0",
              "",
              "GET /fourth HTTP/1.1",
              "Host: x",
              "",
              ""));
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      String sink = readResponse(s.getInputStream());
      assertThat(sink).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n5 907060870");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    assertThat(app.take().uri()).isEqualTo("/first");
    assertThat(app.take().uri()).isEqualTo("/second");
    assertThat(app.take().uri()).isEqualTo("/sink");
    assertThat(app.take().uri()).isEqualTo("/fourth");
    assertThat(relay().handedOver()).isEqualTo(1);
    List<String> lines = SpanLines.await(spanLog, 4);
    assertThat(lines).extracting(l -> SpanLines.field(l, "name")).contains("post /sink");
  }

  @Test
  void aHeadInPiecesAndPipelinedRequestsAreAnsweredInOrder() throws Exception {
    start();
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      byte[] head =
          "GET /one HTTP/1.1\r\nHost: x\r\nX-Long: abc\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      for (byte b : head) {
        out.write(b);
        out.flush();
      }
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      send(s, "GET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    assertThat(app.take().uri()).isEqualTo("/one");
    assertThat(app.take().uri()).isEqualTo("/two");
    assertThat(app.take().uri()).isEqualTo("/three");
    assertThat(relay().handedOver()).isZero();
    List<String> lines = SpanLines.await(spanLog, 3);
    assertThat(lines).extracting(l -> SpanLines.field(l, "name")).contains("get /three");
  }

  @Test
  void aContentLengthBodyLargerThanTheBuffersPassesThroughWhole() throws Exception {
    start();
    byte[] body = new byte[1_000_000];
    for (int i = 0; i < body.length; i++) body[i] = (byte) ('a' + i % 26);
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri("/sink"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(body);
    assertThat(response.body()).isEqualTo(body.length + " " + crc.getValue());
    assertThat(relay().handedOver()).isZero();
  }

  @Test
  void aConnectionPastItsSmallBuffersCarriesLargeHeadsAndBodiesItself() throws Exception {
    // The relay's work buffers start at 4 KB; a head, body or response larger than that takes a
    // listener buffer. Each of these on one caller connection, carried by the relay (none handed
    // over), on one connection to the app.
    start();
    String cookie = "c".repeat(9_000);
    HttpResponse<String> bigHead = get("/echo", "X-Cookie", cookie);
    assertThat(bigHead.statusCode()).isEqualTo(200);
    HttpResponse<String> responseHead = get("/bighead?bytes=6000");
    assertThat(responseHead.statusCode()).isEqualTo(200);
    assertThat(responseHead.headers().firstValue("x-big").orElse("")).hasSize(6000);
    HttpResponse<byte[]> source =
        client.send(
            HttpRequest.newBuilder(uri("/source?bytes=300000")).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(source.statusCode()).isEqualTo(200);
    assertThat(source.body()).isEqualTo(Patterns.stream(300_000).readAllBytes());
    HttpResponse<String> small = get("/after");
    assertThat(small.statusCode()).isEqualTo(200);

    TestUpstream.Received first = app.take();
    assertThat(first.headers().get("X-cookie")).containsExactly(cookie);
    List<Integer> ports = new java.util.ArrayList<>(List.of(first.remotePort()));
    for (int i = 0; i < 3; i++) ports.add(app.take().remotePort());
    assertThat(ports).containsOnly(ports.get(0));

    // pipelined: a small head, then one past the small buffer, in one write
    try (Socket s = connect()) {
      send(
          s,
          "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
              + "GET /two HTTP/1.1\r\nHost: x\r\nX-Long: "
              + "l".repeat(6_000)
              + "\r\n\r\n");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    assertThat(app.take().uri()).isEqualTo("/one");
    TestUpstream.Received two = app.take();
    assertThat(two.uri()).isEqualTo("/two");
    assertThat(two.headers().get("X-long")).containsExactly("l".repeat(6_000));
    assertThat(relay().handedOver()).isZero();
    List<String> lines = SpanLines.await(spanLog, 6);
    assertThat(lines).extracting(l -> SpanLines.tag(l, "http.status_code")).containsOnly("200");
  }

  @Test
  void passesEachResponseFramingThroughAndDropsWhatTheAppListsInConnection() throws Exception {
    scripted =
        new ScriptedApp(
            requestLine -> {
              String path = requestLine.substring(4, requestLine.indexOf(' ', 5)).strip();
              return switch (path) {
                case "/chunked" ->
                    lines(
                        "HTTP/1.1 200 OK",
                        "Transfer-Encoding: chunked",
                        "",
                        "5",
                        "hello",
                        "6;ext=1",
                        " world",
                        "0",
                        "X-Trailer: t",
                        "",
                        "");
                case "/listed" ->
                    lines(
                        "HTTP/1.1 200 OK",
                        "Connection: X-Secret, keep-alive",
                        "X-Secret: s",
                        "Keep-Alive: timeout=5",
                        "X-Kept: k",
                        "Content-Length: 2",
                        "",
                        "ok");
                case "/early" ->
                    lines(
                        "HTTP/1.1 103 Early Hints",
                        "Link: </a.css>",
                        "",
                        "HTTP/1.1 200 OK",
                        "Content-Length: 5",
                        "",
                        "final");
                case "/empty" -> "HTTP/1.1 204 No Content\r\n\r\n";
                case "/head" -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
                default -> "HTTP/1.0 200 OK\r\n\r\nuntil the app closes";
              };
            });
    start("app", "127.0.0.1:" + scripted.port());
    try (Socket s = connect()) {
      send(s, "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
      String chunked = readResponse(s.getInputStream());
      assertThat(chunked).contains("Transfer-Encoding: chunked").endsWith("X-Trailer: t\r\n\r\n");
      send(s, "GET /listed HTTP/1.1\r\nHost: x\r\n\r\n");
      String listed = readResponse(s.getInputStream());
      assertThat(listed.toLowerCase(Locale.ROOT))
          .contains("x-kept: k")
          .doesNotContain("x-secret")
          .doesNotContain("keep-alive");
      send(s, "GET /early HTTP/1.1\r\nHost: x\r\n\r\n");
      String early = readResponse(s.getInputStream());
      assertThat(early).startsWith("HTTP/1.1 200 OK").endsWith("final");
      send(s, "GET /empty HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 204");
      send(s, "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(readResponse(s.getInputStream()))
          .startsWith("HTTP/1.1 200")
          .contains("Content-Length: 1000");
      // all of these on the caller's one connection, and on one connection to the app
      assertThat(scripted.accepted.get()).isEqualTo(1);
      send(s, "GET /close-delimited HTTP/1.1\r\nHost: x\r\n\r\n");
      String untilClose =
          new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(untilClose)
          .startsWith("HTTP/1.1 200 OK")
          .contains("Connection: close")
          .endsWith("until the app closes");
    }
    List<String> lines = SpanLines.await(spanLog, 6);
    assertThat(lines).extracting(l -> SpanLines.tag(l, "http.status_code")).contains("204");
    assertThat(relay().handedOver()).isZero();
  }

  @Test
  void aSilentAppIsAnswered504AndALostAppSide502WithProxyStatus() throws Exception {
    scripted =
        new ScriptedApp(
            requestLine -> requestLine.contains("/silent") ? null : "HTTP/1.1 200 OK\r\nContent-");
    start("app", "127.0.0.1:" + scripted.port(), "upstream.response-timeout", "300ms");
    HttpResponse<String> silent = get("/silent");
    assertThat(silent.statusCode()).isEqualTo(504);
    assertThat(silent.headers().firstValue("proxy-status").orElse(""))
        .contains("http_response_timeout");
    HttpResponse<String> cut = get("/cut");
    assertThat(cut.statusCode()).isEqualTo(502);
    assertThat(cut.headers().firstValue("proxy-status").orElse(""))
        .contains("connection_terminated");
    List<String> lines = SpanLines.await(spanLog, 2);
    assertThat(SpanLines.tag(lines.get(0), "error")).startsWith("timeout: no response in 300ms");
    assertThat(SpanLines.tag(lines.get(1), "error")).startsWith("reset: ");
  }

  /** The lines joined with CRLF. */
  static String lines(String... lines) {
    return String.join("\r\n", lines);
  }

  private Socket connect() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), hoptrace.inboundAddress().getPort());
    s.setSoTimeout(5000);
    return s;
  }

  static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  /**
   * One response from {@code in}: its head, then a Content-Length body or a chunked one (to its
   * last CRLF); nothing more for HEAD-like heads (a 204, or when the test sent HEAD: it reads only
   * the head then, by Content-Length absent of a body).
   */
  static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    while (!buffer.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) break;
      buffer.write(c);
    }
    String head = buffer.toString(StandardCharsets.ISO_8859_1);
    String lower = head.toLowerCase(Locale.ROOT);
    if (head.startsWith("HTTP/1.1 204") || lower.contains("content-length: 1000")) return head;
    int cl = lower.indexOf("content-length: ");
    if (cl >= 0) {
      int n = Integer.parseInt(lower.substring(cl + 16, lower.indexOf('\r', cl)).trim());
      buffer.write(in.readNBytes(n));
    } else if (lower.contains("transfer-encoding: chunked")) {
      while (!buffer.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")
          || buffer.size() == head.length()) {
        int c = in.read();
        if (c < 0) break;
        buffer.write(c);
      }
    }
    return buffer.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * An app on a raw socket answering each request with the bytes a function gives for its request
   * line (null: never answers); a response without framing is followed by a close.
   */
  static final class ScriptedApp implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final AtomicInteger accepted = new AtomicInteger();
    final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final Thread thread;

    ScriptedApp(Function<String, @Nullable String> responses) throws IOException {
      thread =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket socket = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(socket);
                    Thread t = new Thread(() -> serve(socket, responses));
                    t.setDaemon(true);
                    t.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private static void serve(Socket socket, Function<String, @Nullable String> responses) {
      try (socket) {
        InputStream in = socket.getInputStream();
        while (true) {
          ByteArrayOutputStream head = new ByteArrayOutputStream();
          while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) return;
            head.write(c);
          }
          String text = head.toString(StandardCharsets.ISO_8859_1);
          String response = responses.apply(text.substring(0, text.indexOf('\r')));
          if (response == null) {
            in.readAllBytes(); // silent until the proxy gives up
            return;
          }
          socket.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
          socket.getOutputStream().flush();
          String lower = response.toLowerCase(Locale.ROOT);
          boolean framed =
              lower.contains("content-length: ")
                  || lower.contains("transfer-encoding")
                  || lower.startsWith("http/1.1 204")
                  || lower.contains("content-length: 1000");
          if (!framed) return; // close-delimited, or a head cut short: close
        }
      } catch (IOException e) {
        // the proxy closed
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) s.close();
    }
  }
}
