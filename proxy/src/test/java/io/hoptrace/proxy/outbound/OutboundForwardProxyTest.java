package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.config.Settings;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.testing.Clients;
import io.hoptrace.proxy.testing.EchoServer;
import io.hoptrace.proxy.testing.RawHttp;
import io.hoptrace.proxy.testing.RefusedPort;
import io.hoptrace.proxy.upstream.Forwarder;
import io.hoptrace.proxy.upstream.SameLoopForwarder;
import io.hoptrace.proxy.upstream.UpstreamClient;
import io.hoptrace.proxy.upstream.UpstreamForwarder;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The forward proxy and a named route over real sockets: curl, the JDK HttpClient with a
 * ProxySelector and Python's urllib with {@code http_proxy}, each as its users configure it, to a
 * real callee. Every call gets through with a fresh {@code traceparent} naming its CLIENT span.
 */
class OutboundForwardProxyTest {
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  static EchoServer callee;
  static UpstreamClient upstream;
  static OutboundServer server;
  static int proxyPort;
  static int routePort;
  static final List<Span> spans = new CopyOnWriteArrayList<>();
  static final ProxyMetrics metrics = new ProxyMetrics();

  @BeforeAll
  static void start() throws Exception {
    callee = new EchoServer();
    Settings settings =
        Settings.load(
            null,
            Map.of(),
            Map.of(
                "service", "front",
                "outbound.port", "0",
                // 127.0.0.2 is loopback too: narrow the default so it can stand for a stranger
                "outbound.allowed-sources", "127.0.0.1/32",
                "routes.callee.listen", "0",
                "routes.callee.upstream", "127.0.0.1:" + callee.port(),
                "upstream.connect-timeout", "1s",
                "upstream.response-timeout", "2s"));
    upstream = new UpstreamClient(settings.upstream());
    upstream.start();
    server =
        OutboundServer.start(
            settings,
            forwarder(settings),
            OutboundAccessAndTunnelTest::rootHop,
            io.hoptrace.propagation.Injector.newBuilder().build(),
            spans::add,
            metrics,
            new OwnPorts());
    proxyPort = server.forwardProxyAddress().getPort();
    routePort = server.routeAddresses().get("callee").getPort();
  }

  /** As Hoptrace picks it: upstream.client, or -Dhoptrace.test.upstream-client when given. */
  private static Forwarder forwarder(Settings settings) {
    Forwarder jetty = new UpstreamForwarder(upstream, settings.upstream().responseTimeout());
    String forced = System.getProperty("hoptrace.test.upstream-client", "");
    boolean sameLoop =
        forced.isEmpty()
            ? settings.upstream().client() == Settings.UpstreamClient.SAME_LOOP
            : forced.equals("same-loop");
    return sameLoop ? new SameLoopForwarder(settings.upstream(), jetty) : jetty;
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
    if (upstream != null) upstream.close();
    if (callee != null) callee.close();
  }

  @BeforeEach
  void clear() {
    spans.clear();
    callee.received().clear();
  }

  String calleeUrl(String pathAndQuery) {
    return "http://127.0.0.1:" + callee.port() + pathAndQuery;
  }

  @Test
  void curlDashX_getsThrough_withTraceparentNamingTheClientSpan() throws Exception {
    Clients.Result r = Clients.curlViaProxy(proxyPort, calleeUrl("/orders/42?x=1"));
    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out()).startsWith("GET /orders/42?x=1");
    Span span = awaitSpan();
    assertThat(span.kind()).isEqualTo(Kind.CLIENT);
    assertThat(span.name()).isEqualTo("get /orders/42");
    assertThat(span.tag("http.status_code")).isEqualTo("200");
    assertThat(span.tag("http.path")).isEqualTo("/orders/42");
    assertThat(span.remoteIp()).isEqualTo("127.0.0.1");
    assertThat(span.remotePort()).isEqualTo(callee.port());
    EchoServer.Received got = callee.last();
    assertThat(got.uri()).isEqualTo("/orders/42?x=1");
    assertThat(got.header("host")).isEqualTo("127.0.0.1:" + callee.port());
    assertThat(got.header("traceparent"))
        .startsWith(
            "00-" + hex(span.traceIdHigh(), span.traceIdLow()) + "-" + hex(span.id()) + "-");
    assertThat(got.header("proxy-connection")).isNull();
  }

  @Test
  void jdkHttpClientWithProxySelector_postsABody() throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(new InetSocketAddress(LOOPBACK, proxyPort)))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create(calleeUrl("/pay")))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString("amount=5"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("POST /pay\namount=5");
    assertThat(awaitSpan().name()).isEqualTo("post /pay");
  }

  @Test
  void pythonUrllibWithHttpProxyEnv_getsThrough_staleContextReplaced() throws Exception {
    String stale = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    Clients.Result r =
        Clients.pythonUrllib(proxyPort, calleeUrl("/py"), Map.of("traceparent", stale));
    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out()).startsWith("GET /py");
    Span span = awaitSpan();
    assertThat(callee.last().header("traceparent")).isNotEqualTo(stale).contains(hex(span.id()));
  }

  @Test
  void route_plainClient_reachesUpstream_spanNamesTheRoute() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + routePort + "/via-route"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).startsWith("GET /via-route");
    assertThat(callee.last().header("host")).isEqualTo("127.0.0.1:" + callee.port());
    Span span = awaitSpan();
    assertThat(span.tag("hoptrace.route")).isEqualTo("callee");
    assertThat(span.remotePort()).isEqualTo(callee.port());
  }

  @Test
  void calleeDown_is502_spanHasError() throws Exception {
    try (RefusedPort refused = new RefusedPort()) {
      String response =
          RawHttp.exchange(LOOPBACK, proxyPort, absoluteGet(refused.port(), "/x"), 5000);
      assertThat(RawHttp.status(response)).isEqualTo(502);
      Span span = awaitSpan();
      assertThat(span.tag("http.status_code")).isEqualTo("502");
      assertThat(span.tag("error")).startsWith("connect");
    }
  }

  @Test
  void calleeNeverAnswers_is504AfterResponseTimeout_spanHasError() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 8, LOOPBACK)) {
      Thread acceptor =
          new Thread(
              () -> {
                try (java.net.Socket accepted = silent.accept()) {
                  accepted.setSoTimeout(10_000);
                  Thread.sleep(10_000); // reads nothing, answers nothing
                } catch (Exception e) {
                  // closed by the test
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      String response =
          RawHttp.exchange(LOOPBACK, proxyPort, absoluteGet(silent.getLocalPort(), "/slow"), 8000);
      assertThat(RawHttp.status(response)).isEqualTo(504);
      Span span = awaitSpan();
      assertThat(span.tag("http.status_code")).isEqualTo("504");
      assertThat(span.tag("error")).startsWith("timeout");
      acceptor.interrupt();
    }
  }

  /** The callee's response head over upstream.max-response-head-bytes (64 KiB by default). */
  @Test
  void calleeAnswersAHeadOver64KiB_is502_spanSaysWhy() throws Exception {
    try (ServerSocket callee70k = new ServerSocket(0, 8, LOOPBACK)) {
      Thread answerer =
          new Thread(
              () -> {
                try (java.net.Socket accepted = callee70k.accept()) {
                  accepted.setSoTimeout(10_000);
                  var in =
                      new java.io.BufferedReader(
                          new java.io.InputStreamReader(
                              accepted.getInputStream(), StandardCharsets.ISO_8859_1));
                  while (!in.readLine().isEmpty()) {} // the request head
                  accepted
                      .getOutputStream()
                      .write(
                          ("HTTP/1.1 200 OK\r\nX-Big: "
                                  + "h".repeat(70_000)
                                  + "\r\nContent-Length: 2\r\n\r\nok")
                              .getBytes(StandardCharsets.ISO_8859_1));
                } catch (Exception e) {
                  // hoptrace closes mid-head: expected
                }
              });
      answerer.setDaemon(true);
      answerer.start();
      String response =
          RawHttp.exchange(LOOPBACK, proxyPort, absoluteGet(callee70k.getLocalPort(), "/h"), 8000);
      assertThat(RawHttp.status(response)).isEqualTo(502);
      assertThat(response)
          .contains("Proxy-Status: hoptrace; error=http_response_header_section_size")
          .doesNotContain("hhhh");
      Span span = awaitSpan();
      assertThat(span.kind()).isEqualTo(Kind.CLIENT);
      assertThat(span.tag("http.status_code")).isEqualTo("502");
      assertThat(span.tag("error"))
          .isEqualTo(
              "response head too large: over 65536 bytes (upstream.max-response-head-bytes)");
    }
  }

  @Test
  void route_fromDisallowedSource_is403() throws Exception {
    String response =
        RawHttp.exchange(
            InetAddress.getByAddress(new byte[] {127, 0, 0, 2}),
            routePort,
            "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            2000);
    assertThat(RawHttp.status(response)).isEqualTo(403);
    assertThat(callee.received()).isEmpty();
  }

  static String hex(long v) {
    return String.format("%016x", v);
  }

  static String hex(long high, long low) {
    return hex(high) + hex(low);
  }

  static Span awaitSpan() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (spans.isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }

  /** A forward-proxy request (absolute form) for 127.0.0.1:port, closing after its answer. */
  static String absoluteGet(int port, String path) {
    return "GET http://127.0.0.1:"
        + port
        + path
        + " HTTP/1.1\r\nHost: 127.0.0.1:"
        + port
        + "\r\nConnection: close\r\n\r\n";
  }
}
