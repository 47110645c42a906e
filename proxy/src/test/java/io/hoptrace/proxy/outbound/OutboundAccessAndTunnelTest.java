package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsServer;
import io.hoptrace.context.TraceContext;
import io.hoptrace.proxy.guard.Refusals;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.testing.RawHttp;
import io.hoptrace.proxy.testing.RefusedPort;
import io.hoptrace.proxy.testing.TestTls;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.util.Methods;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forward-proxy port's guards and CONNECT tunnels, over real sockets: a real TLS server, the
 * JDK HttpClient and curl as the app. Correlation is a fixed stand-in here (every call a root);
 * what the correlator decides is {@code OutboundCorrelationTest}'s subject.
 */
class OutboundAccessAndTunnelTest {
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @TempDir static Path dir;
  static TestTls tls;
  static HttpsServer tlsServer;
  static int tlsPort;
  static final ProxyMetrics metrics = new ProxyMetrics();
  static final List<Span> spans = new CopyOnWriteArrayList<>();
  static final OwnPorts ownPorts = new OwnPorts();
  static Undertow proxy;
  static int proxyPort;

  @BeforeAll
  static void start() throws Exception {
    tls = TestTls.generate(dir);
    tlsServer = tls.server("hello over tls");
    tlsPort = tlsServer.getAddress().getPort();
    HttpHandler forward = exchange -> exchange.setStatusCode(501); // not this test's subject
    OutboundHandlers handlers =
        new OutboundHandlers(
            metrics,
            new Refusals("app", Kind.CLIENT, spans::add, metrics),
            address -> address.getAddress()[0] == 127 && address.getAddress()[3] == 1,
            Set.of(tlsPort),
            ownPorts,
            OutboundAccessAndTunnelTest::rootHop,
            forward,
            new TunnelHandler("app", spans::add, 2000, 5000, metrics));
    proxy =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(handlers.forwardProxy())
            .build();
    proxy.start();
    proxyPort = ((InetSocketAddress) proxy.getListenerInfo().get(0).getAddress()).getPort();
    ownPorts.add(proxyPort);
  }

  @AfterAll
  static void stop() {
    if (proxy != null) proxy.stop();
    if (tlsServer != null) tlsServer.stop(0);
  }

  /** Stand-in correlate stage: every call starts a new trace. */
  static HttpHandler rootHop(HttpHandler next) {
    return exchange -> {
      OutboundTarget target = exchange.getAttachment(OutboundAttachments.TARGET);
      String path =
          exchange.getRequestMethod().equals(Methods.CONNECT)
              ? target.authority()
              : exchange.getRequestPath();
      exchange.putAttachment(
          OutboundAttachments.HOP,
          new ClientHop(
              TraceContext.newRoot(null),
              "root",
              0,
              null,
              exchange.getRequestMethod().toString(),
              path,
              target,
              System.currentTimeMillis() * 1000,
              System.nanoTime()));
      next.handleRequest(exchange);
    };
  }

  @Test
  void connect_jdkHttpClientWithProxySelector_reachesTlsServerAndWritesTunnelSpan()
      throws Exception {
    spans.clear();
    HttpClient client =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(new InetSocketAddress(LOOPBACK, proxyPort)))
            .sslContext(tls.context())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + tlsPort + "/secret?q=1"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("hello over tls");
    Span span = awaitSpan();
    assertThat(span.kind()).isEqualTo(Kind.CLIENT);
    assertThat(span.name()).isEqualTo("connect 127.0.0.1:" + tlsPort);
    assertThat(span.tag("http.method")).isEqualTo("CONNECT");
    assertThat(span.tag("http.status_code")).isEqualTo("200");
    assertThat(Long.parseLong(span.tag("hoptrace.bytes_sent"))).isGreaterThan(100);
    assertThat(Long.parseLong(span.tag("hoptrace.bytes_received"))).isGreaterThan(100);
    assertThat(span.tag("hoptrace.link")).isEqualTo("root");
    assertThat(span.remoteIp()).isEqualTo("127.0.0.1");
    assertThat(span.remotePort()).isEqualTo(tlsPort);
  }

  @Test
  void connect_curlWithProxyInsecure_reachesTlsServer() throws Exception {
    spans.clear();
    Process curl =
        new ProcessBuilder(
                "curl",
                "-sS",
                "--max-time",
                "10",
                "-k",
                "--proxy-insecure",
                "-x",
                "http://127.0.0.1:" + proxyPort,
                "https://127.0.0.1:" + tlsPort + "/")
            .redirectErrorStream(true)
            .start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(curl.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(out).isEqualTo("hello over tls");
    assertThat(curl.exitValue()).isZero();
    assertThat(awaitSpan().tag("http.status_code")).isEqualTo("200");
  }

  @Test
  void connect_deniedPort_is403AndCounted() throws Exception {
    long before = metrics.counter(Refusal.CONNECT_PORT.metricName()).getCount();
    String response =
        RawHttp.exchange(
            LOOPBACK,
            proxyPort,
            "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n",
            2000);
    assertThat(RawHttp.status(response)).isEqualTo(403);
    assertThat(response).contains("CONNECT port not allowed");
    assertThat(metrics.counter(Refusal.CONNECT_PORT.metricName()).getCount()).isEqualTo(before + 1);
  }

  @Test
  void connect_refusedByCallee_is502WithSpan() throws Exception {
    spans.clear();
    // Refusing for the whole test, not merely closed before it (one CI run read 200 here).
    try (RefusedPort refusing = new RefusedPort()) {
      int closedPort = refusing.port();
      OutboundHandlers handlers =
          new OutboundHandlers(
              metrics,
              new Refusals("app", Kind.CLIENT, spans::add, metrics),
              address -> true,
              Set.of(closedPort),
              ownPorts,
              OutboundAccessAndTunnelTest::rootHop,
              exchange -> exchange.setStatusCode(501),
              new TunnelHandler("app", spans::add, 2000, 5000, metrics));
      Undertow other =
          Undertow.builder()
              .addHttpListener(0, "127.0.0.1")
              .setHandler(handlers.forwardProxy())
              .build();
      other.start();
      try {
        int port = ((InetSocketAddress) other.getListenerInfo().get(0).getAddress()).getPort();
        String response =
            RawHttp.exchange(
                LOOPBACK,
                port,
                "CONNECT 127.0.0.1:"
                    + closedPort
                    + " HTTP/1.1\r\nHost: 127.0.0.1:"
                    + closedPort
                    + "\r\n\r\n",
                3000);
        assertThat(RawHttp.status(response)).isEqualTo(502);
        assertThat(awaitSpan().tag("error")).contains("connect");
      } finally {
        other.stop();
      }
    }
  }

  @Test
  void source_outsideAllowedRanges_is403AndCounted() throws Exception {
    long before = metrics.counter(Refusal.SOURCE.metricName()).getCount();
    String response =
        RawHttp.exchange(
            InetAddress.getByName("127.0.0.2"),
            proxyPort,
            "GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n",
            2000);
    assertThat(RawHttp.status(response)).isEqualTo(403);
    assertThat(response).contains("source address not allowed: 127.0.0.2");
    assertThat(metrics.counter(Refusal.SOURCE.metricName()).getCount()).isEqualTo(before + 1);
  }

  @Test
  void source_isJudgedOncePerConnection_andHoldsForEachKeepAliveRequest() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    OutboundHandlers counting =
        new OutboundHandlers(
            metrics,
            new Refusals("app", Kind.CLIENT, spans::add, metrics),
            address -> {
              asked.incrementAndGet();
              return address.getAddress()[3] == 1;
            },
            Set.of(),
            new OwnPorts(),
            OutboundAccessAndTunnelTest::rootHop,
            exchange -> exchange.setStatusCode(501),
            exchange -> exchange.setStatusCode(501));
    Undertow other =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(counting.forwardProxy())
            .build();
    other.start();
    try {
      int port = ((InetSocketAddress) other.getListenerInfo().get(0).getAddress()).getPort();
      String request = "GET http://127.0.0.1:9/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n";
      String allowed = RawHttp.exchange(LOOPBACK, port, request + request + request, 1000);
      assertThat(statuses(allowed)).containsExactly(501, 501, 501);
      assertThat(asked).hasValue(1);

      String refused =
          RawHttp.exchange(InetAddress.getByName("127.0.0.2"), port, request + request, 1000);
      assertThat(statuses(refused)).isNotEmpty().containsOnly(403);
      assertThat(refused).contains("source address not allowed: 127.0.0.2");
      assertThat(asked).hasValue(2);
    } finally {
      other.stop();
    }
  }

  /** The status codes of the responses in {@code text}, in order. */
  private static List<Integer> statuses(String text) {
    List<Integer> codes = new ArrayList<>();
    Matcher m = Pattern.compile("HTTP/1\\.1 (\\d{3}) ").matcher(text);
    while (m.find()) codes.add(Integer.parseInt(m.group(1)));
    return codes;
  }

  @Test
  void connect_fromDisallowedSource_is403() throws Exception {
    String response =
        RawHttp.exchange(
            InetAddress.getByName("127.0.0.2"),
            proxyPort,
            "CONNECT 127.0.0.1:" + tlsPort + " HTTP/1.1\r\nHost: 127.0.0.1:" + tlsPort + "\r\n\r\n",
            2000);
    assertThat(RawHttp.status(response)).isEqualTo(403);
  }

  @Test
  void originForm_onForwardProxyPort_is400() throws Exception {
    String response =
        RawHttp.exchange(
            LOOPBACK, proxyPort, "GET /orders/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2000);
    assertThat(RawHttp.status(response)).isEqualTo(400);
    assertThat(response).contains("absolute-form");
  }

  @Test
  void target_isOwnPort_is403LoopAndCounted() throws Exception {
    long before = metrics.counter(Refusal.LOOP.metricName()).getCount();
    String response =
        RawHttp.exchange(
            LOOPBACK,
            proxyPort,
            "GET http://localhost:"
                + proxyPort
                + "/x HTTP/1.1\r\nHost: localhost:"
                + proxyPort
                + "\r\n\r\n",
            2000);
    assertThat(RawHttp.status(response)).isEqualTo(403);
    assertThat(response).contains("own port");
    assertThat(metrics.counter(Refusal.LOOP.metricName()).getCount()).isEqualTo(before + 1);
  }

  @Test
  void target_isOwnPortByAddressLiteral_is403Loop_everyTime() throws Exception {
    long before = metrics.counter(Refusal.LOOP.metricName()).getCount();
    for (int i = 0; i < 2; i++) { // the second finds the target (and its address) kept
      String response =
          RawHttp.exchange(
              LOOPBACK,
              proxyPort,
              "GET http://127.0.0.1:"
                  + proxyPort
                  + "/x HTTP/1.1\r\nHost: 127.0.0.1:"
                  + proxyPort
                  + "\r\n\r\n",
              2000);
      assertThat(RawHttp.status(response)).isEqualTo(403);
      assertThat(response).contains("own port");
    }
    assertThat(metrics.counter(Refusal.LOOP.metricName()).getCount()).isEqualTo(before + 2);
  }

  @Test
  void target_httpsInAbsoluteForm_is400() throws Exception {
    String response =
        RawHttp.exchange(
            LOOPBACK,
            proxyPort,
            "GET https://127.0.0.1:1/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",
            2000);
    assertThat(RawHttp.status(response)).isEqualTo(400);
  }

  private static Span awaitSpan() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (spans.isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }
}
