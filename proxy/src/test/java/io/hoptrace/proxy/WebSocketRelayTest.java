package io.hoptrace.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.config.Settings;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.util.HeaderValues;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket through the inbound hop: a real WebSocket app (Undertow's) and the JDK's WebSocket
 * client. With {@code inbound.websocket} on, the handshake reaches the app with Upgrade intact and
 * this hop's traceparent, messages go both ways, and one SERVER span is written when the connection
 * closes; off (the default), Upgrade is stripped and the app sees a plain GET. An h2c upgrade is
 * stripped either way.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketRelayTest {
  @TempDir Path dir;
  Path spanLog;
  Undertow app;
  int appPort;
  Hoptrace hoptrace;

  /** Each request's head as the app saw it: name → values (lowercase names). */
  final List<Map<String, String>> seen = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startApp() {
    spanLog = dir.resolve("spans.log");
    var echo =
        Handlers.websocket(
            (exchange, channel) -> {
              WebSockets.sendText("hello", channel, null); // right after the 101
              channel
                  .getReceiveSetter()
                  .set(
                      new AbstractReceiveListener() {
                        @Override
                        protected void onFullTextMessage(
                            WebSocketChannel ch, BufferedTextMessage message) {
                          WebSockets.sendText("echo: " + message.getData(), ch, null);
                        }
                      });
              channel.resumeReceives();
            },
            exchange -> exchange.getResponseSender().send("plain"));
    app =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(
                exchange -> {
                  Map<String, String> head = new HashMap<>();
                  head.put(":path", exchange.getRequestPath());
                  for (HeaderValues values : exchange.getRequestHeaders()) {
                    head.put(
                        values.getHeaderName().toString().toLowerCase(java.util.Locale.ROOT),
                        String.join(",", values));
                  }
                  seen.add(head);
                  if (exchange.getRequestPath().equals("/deny")) {
                    exchange.setStatusCode(403);
                    exchange.getResponseSender().send("not you");
                    return;
                  }
                  if (exchange.getRequestPath().equals("/bighead")) { // a 101 with a long head
                    exchange
                        .getResponseHeaders()
                        .put(new io.undertow.util.HttpString("X-Big"), "h".repeat(20_000));
                  }
                  echo.handleRequest(exchange);
                })
            .build();
    app.start();
    appPort = ((InetSocketAddress) app.getListenerInfo().get(0).getAddress()).getPort();
  }

  @AfterEach
  void stop() {
    if (hoptrace != null) hoptrace.close();
    app.stop();
  }

  /** {@code inbound.engine} for the whole class (a subclass runs the tests on the byte relay). */
  @org.jspecify.annotations.Nullable String inboundEngine;

  void start(boolean websocket) throws Exception {
    start(websocket, "127.0.0.1");
  }

  void start(boolean websocket, String appHost) throws Exception {
    Map<String, String> overrides = new HashMap<>();
    overrides.put("service", "chat");
    overrides.put("inbound.host", "127.0.0.1");
    overrides.put("inbound.port", "0");
    overrides.put("inbound.websocket", Boolean.toString(websocket));
    overrides.put("app", appHost + ":" + appPort);
    overrides.put("span-log.path", spanLog.toString());
    overrides.put("span-log.flush-interval", "20ms");
    overrides.put("drain-time", "2s");
    if (inboundEngine != null) overrides.put("inbound.engine", inboundEngine);
    hoptrace =
        Hoptrace.start(
            Settings.load(null, Map.of(), overrides),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
  }

  URI ws(String path) {
    return URI.create("ws://127.0.0.1:" + hoptrace.inboundAddress().getPort() + path);
  }

  /** Collects text messages and the close. */
  static final class Collector implements WebSocket.Listener {
    final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        messages.add(partial.toString());
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.completeExceptionally(error);
    }

    String next() throws InterruptedException {
      String m = messages.poll(5, TimeUnit.SECONDS);
      assertThat(m).as("a message within 5 s").isNotNull();
      return m;
    }
  }

  @Test
  void enabled_jdkClient_echoesBothWays_closes_oneServerSpanWithBytes() throws Exception {
    start(true);
    Collector collector = new Collector();
    WebSocket socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            .header("X-Request-Id", "ws-1")
            .buildAsync(ws("/chat?room=1"), collector)
            .get(10, TimeUnit.SECONDS);
    long opened = System.nanoTime();
    assertThat(collector.next()).isEqualTo("hello");
    for (int i = 0; i < 20; i++) {
      socket.sendText("message " + i, true).get(5, TimeUnit.SECONDS);
      assertThat(collector.next()).isEqualTo("echo: message " + i);
    }
    String big = "x".repeat(100_000); // several relay buffers each way
    socket.sendText(big, true).get(5, TimeUnit.SECONDS);
    assertThat(collector.next()).isEqualTo("echo: " + big);
    Thread.sleep(200);
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    assertThat(collector.closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    long heldMicros = (System.nanoTime() - opened) / 1000;

    Map<String, String> handshake = seen.get(0);
    assertThat(handshake.get(":path")).isEqualTo("/chat");
    assertThat(handshake.get("x-request-id")).isEqualTo("ws-1");
    assertThat(handshake.get("upgrade")).isEqualToIgnoringCase("websocket");
    assertThat(handshake.get("connection")).containsIgnoringCase("upgrade");
    assertThat(handshake.get("sec-websocket-key")).isNotBlank();
    assertThat(handshake.get("sec-websocket-version")).isEqualTo("13");

    List<String> lines = SpanLines.await(spanLog, 1);
    assertThat(lines).hasSize(1);
    String span = lines.get(0);
    assertThat(SpanLines.field(span, "kind")).isEqualTo("SERVER");
    assertThat(SpanLines.field(span, "name")).isEqualTo("get /chat");
    assertThat(SpanLines.tag(span, "http.status_code")).isEqualTo("101");
    assertThat(SpanLines.tag(span, "hoptrace.upgrade")).isEqualTo("websocket");
    assertThat(SpanLines.tag(span, "hoptrace.context")).isEqualTo("extracted");
    assertThat(SpanLines.tag(span, "error")).isNull();
    assertThat(SpanLines.tag(span, "http.request_id")).isEqualTo("ws-1");
    assertThat(Long.parseLong(SpanLines.tag(span, "hoptrace.bytes_received")))
        .isGreaterThan(100_000);
    assertThat(Long.parseLong(SpanLines.tag(span, "hoptrace.bytes_sent"))).isGreaterThan(100_000);
    java.util.regex.Matcher duration =
        java.util.regex.Pattern.compile("\"duration\":(\\d+)").matcher(span);
    assertThat(duration.find()).isTrue();
    assertThat(Long.parseLong(duration.group(1)))
        .as("the span lasts as long as the connection")
        .isGreaterThanOrEqualTo(heldMicros - 1_000_000)
        .isGreaterThan(200_000);
    // The app got this hop's context: the caller's trace, this SERVER span as parent.
    assertThat(SpanLines.field(span, "traceId")).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(handshake.get("traceparent"))
        .isEqualTo("00-0af7651916cd43dd8448eb211c80319c-" + SpanLines.field(span, "id") + "-01");
    assertThat(hoptrace.metrics().inFlight(io.hoptrace.proxy.metrics.ProxyMetrics.Hop.INBOUND))
        .isZero();
  }

  @Test
  void enabled_appByName_resolvedOffTheIoThread_echoes() throws Exception {
    start(true, "localhost");
    Collector collector = new Collector();
    WebSocket socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(ws("/chat"), collector)
            .get(10, TimeUnit.SECONDS);
    assertThat(collector.next()).isEqualTo("hello");
    socket.sendText("by name", true).get(5, TimeUnit.SECONDS);
    assertThat(collector.next()).isEqualTo("echo: by name");
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
    assertThat(collector.closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    assertThat(SpanLines.tag(SpanLines.line(spanLog, 1), "http.status_code")).isEqualTo("101");
  }

  @Test
  void enabled_appRefusesTheHandshake_itsAnswerReachesTheClient() throws Exception {
    start(true);
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .buildAsync(ws("/deny"), new Collector())
                    .get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(WebSocketHandshakeException.class)
        .satisfies(
            e ->
                assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode())
                    .isEqualTo(403));
    String span = SpanLines.line(spanLog, 1);
    assertThat(SpanLines.tag(span, "http.status_code")).isEqualTo("403");
    assertThat(SpanLines.tag(span, "hoptrace.upgrade")).isNull();
    // and the hop still serves plain requests
    assertThat(rawGet("GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 200")
        .endsWith("plain");
  }

  @Test
  void enabled_appDown_handshakeGets502WithProxyStatus_andErrorSpan() throws Exception {
    start(true);
    app.stop();
    String answer = rawGet(handshake("/chat"));
    assertThat(answer).startsWith("HTTP/1.1 502").contains("Proxy-Status: hoptrace; error=");
    String span = SpanLines.line(spanLog, 1);
    assertThat(SpanLines.tag(span, "http.status_code")).isEqualTo("502");
    assertThat(SpanLines.tag(span, "error")).startsWith("connect: ");
    app.start(); // for stop()
  }

  @Test
  void enabled_handshakeAnswerOver16KiB_502WithProxyStatus_andErrorSpan() throws Exception {
    start(true);
    String answer = rawGet(handshake("/bighead"));
    assertThat(answer)
        .startsWith("HTTP/1.1 502")
        .contains("Proxy-Status: hoptrace; error=http_response_header_section_size")
        .doesNotContain("hhhh");
    String span = SpanLines.line(spanLog, 1);
    assertThat(SpanLines.tag(span, "error"))
        .isEqualTo("response head too large: over 16384 bytes (a WebSocket handshake's answer)");
  }

  /** An RFC 6455 opening handshake for {@code path}, as raw request bytes. */
  static String handshake(String path) {
    return String.join(
        "\r\n",
        "GET " + path + " HTTP/1.1",
        "Host: a",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "",
        "");
  }

  @Test
  void disabled_upgradeStripped_appSeesPlainGet() throws Exception {
    start(false);
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .buildAsync(ws("/chat"), new Collector())
                    .get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(WebSocketHandshakeException.class);
    Map<String, String> handshake = seen.get(0);
    assertThat(handshake).doesNotContainKey("upgrade");
    assertThat(handshake.get("connection")).isNull();
    String span = SpanLines.line(spanLog, 1);
    // Whatever the app made of a GET without Upgrade (Undertow's handler: 500), never a 101.
    assertThat(SpanLines.tag(span, "http.status_code")).isNotEqualTo("101");
    assertThat(SpanLines.tag(span, "hoptrace.upgrade")).isNull();
  }

  @Test
  void enabled_h2cUpgrade_stillStripped() throws Exception {
    start(true);
    String answer =
        rawGet(
            String.join(
                "\r\n",
                "GET /plain HTTP/1.1",
                "Host: a",
                "Connection: Upgrade, HTTP2-Settings, close",
                "Upgrade: h2c",
                "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
                "",
                ""));
    assertThat(answer).startsWith("HTTP/1.1 200").endsWith("plain");
    Map<String, String> head = seen.get(0);
    assertThat(head).doesNotContainKeys("upgrade", "http2-settings");
  }

  String rawGet(String request) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(hoptrace.inboundAddress(), 3000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}
