package io.hoptrace.proxy;

import static io.hoptrace.proxy.ByteRelayTest.lines;
import static io.hoptrace.proxy.ByteRelayTest.readResponse;
import static io.hoptrace.proxy.ByteRelayTest.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.relay.ByteRelay;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/**
 * What only the outbound byte relay ({@code outbound.engine = relay}) does: the forward proxy's
 * absolute-form requests and a route's, to an address or a name (resolved on a worker thread),
 * carried by the relay itself over kept connections per callee, with the Undertow path's rewriting
 * (origin-form, the target's Host, hop-by-hop and proxy fields out, the CLIENT span's context in)
 * and span line; everything else handed to the Undertow path with its connection, which answers it
 * as before. (The outbound tests run on the relay, the default, and again on the Undertow path: the
 * *UndertowTest classes.)
 */
class OutboundRelayTest extends InboundHarness {
  private ByteRelay forwardProxy() {
    List<? extends ByteRelay> relays = hoptrace.outbound().relays();
    assertThat(relays).as("outbound.engine = relay").hasSize(1);
    return relays.get(0);
  }

  private Socket proxy() throws IOException {
    Socket s =
        new Socket(
            InetAddress.getLoopbackAddress(), hoptrace.outbound().forwardProxyAddress().getPort());
    s.setSoTimeout(5000);
    return s;
  }

  private Socket route(String name) throws IOException {
    InetSocketAddress route = hoptrace.outbound().routeAddresses().get(name);
    Socket s = new Socket(route.getAddress(), route.getPort());
    s.setSoTimeout(5000);
    return s;
  }

  /** An absolute-form GET of {@code http://authority + path}, with its Host. */
  private static void sendGet(Socket s, String authority, String path) throws IOException {
    send(s, lines("GET http://" + authority + path + " HTTP/1.1", "Host: " + authority, "", ""));
  }

  private String calleeUrl(String pathAndQuery) {
    return "http://127.0.0.1:" + app.port() + pathAndQuery;
  }

  @Test
  void carriesAbsoluteFormRequestsToALiteralOverOneKeptConnection() throws Exception {
    start("outbound.port", "0");
    String appTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    try (Socket s = proxy()) {
      send(
          s,
          lines(
              "GET " + calleeUrl("/orders/1?page=2") + " HTTP/1.1",
              "Host: 127.0.0.1:" + app.port(),
              "Proxy-Connection: keep-alive",
              "Proxy-Authorization: Basic c2VjcmV0",
              "X-Request-Id: req-1",
              "traceparent: 00-" + appTraceId + "-00f067aa0ba902b7-01",
              "",
              ""));
      String first = readResponse(s.getInputStream());
      assertThat(first).startsWith("HTTP/1.1 200");
      send(
          s,
          lines(
              "GET " + calleeUrl("/orders/2") + " HTTP/1.1",
              "Host: 127.0.0.1:" + app.port(),
              "",
              ""));
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    TestUpstream.Received one = app.take();
    TestUpstream.Received two = app.take();
    // origin-form, the target's Host; the proxy's own fields gone
    assertThat(one.uri()).isEqualTo("/orders/1?page=2");
    assertThat(one.header("Host")).isEqualTo("127.0.0.1:" + app.port());
    assertThat(one.header("Proxy-Authorization")).isNull();
    assertThat(one.header("Proxy-Connection")).isNull();
    assertThat(one.header("X-Request-Id")).isEqualTo("req-1");
    // the app's own tracer's context is continued: same trace, a new span (the CLIENT span's)
    Matcher tp = TRACEPARENT.matcher(one.header("traceparent"));
    assertThat(tp.matches()).isTrue();
    assertThat(tp.group(1)).isEqualTo(appTraceId);
    assertThat(tp.group(2)).isNotEqualTo("00f067aa0ba902b7");
    // nothing to continue: a new trace, with a request id of hoptrace's
    assertThat(two.uri()).isEqualTo("/orders/2");
    assertThat(two.header("traceparent")).isNotNull().doesNotContain(appTraceId);
    assertThat(two.header("X-Request-Id")).isNotBlank();
    assertThat(two.remotePort())
        .as("one kept connection to the callee")
        .isEqualTo(one.remotePort());

    assertThat(forwardProxy().handedOver()).isZero();
    assertThat(forwardProxy().upstreamConnections()).isEqualTo(1);
    List<String> spans = SpanLines.await(spanLog, 2);
    String span = spans.get(0);
    assertThat(SpanLines.field(span, "kind")).isEqualTo("CLIENT");
    assertThat(SpanLines.field(span, "name")).isEqualTo("get /orders/1");
    assertThat(SpanLines.field(span, "traceId")).isEqualTo(appTraceId);
    assertThat(SpanLines.field(span, "id")).isEqualTo(tp.group(2));
    assertThat(SpanLines.tag(span, "http.path")).isEqualTo("/orders/1");
    assertThat(SpanLines.tag(span, "http.status_code")).isEqualTo("200");
    assertThat(SpanLines.tag(span, "peer.address")).isEqualTo("127.0.0.1:" + app.port());
    assertThat(SpanLines.tag(span, "http.request_id")).isEqualTo("req-1");
    assertThat(SpanLines.tag(span, "hoptrace.link")).isEqualTo("header");
    assertThat(SpanLines.tag(spans.get(1), "hoptrace.link")).isEqualTo("root");
    assertThat(hoptrace.metrics().counter("hoptrace.outbound.link.header").getCount()).isEqualTo(1);
  }

  @Test
  void aRouteToALiteralIsCarriedWithItsName() throws Exception {
    start("routes.callee.listen", "0", "routes.callee.upstream", "127.0.0.1:" + app.port());
    try (Socket s = route("callee")) {
      send(s, lines("POST /pay HTTP/1.1", "Host: callee", "Content-Length: 5", "", "hello"));
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    TestUpstream.Received r = app.take();
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.uri()).isEqualTo("/pay");
    assertThat(r.header("Host")).isEqualTo("127.0.0.1:" + app.port());
    assertThat(r.header("traceparent")).isNotNull();
    assertThat(hoptrace.outbound().relays().get(0).handedOver()).isZero();
    String span = SpanLines.await(spanLog, 1).get(0);
    assertThat(SpanLines.field(span, "name")).isEqualTo("post /pay");
    assertThat(SpanLines.tag(span, "hoptrace.route")).isEqualTo("callee");
  }

  @Test
  void aNameIsResolvedOffTheIoThreadAndCarriedByTheRelay() throws Exception {
    start("outbound.port", "0");
    int proxyPort = hoptrace.outbound().forwardProxyAddress().getPort();
    try (Socket s = proxy()) {
      for (int i = 1; i <= 2; i++) {
        sendGet(s, "localhost:" + app.port(), "/named/" + i);
        assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      }
    }
    try (Socket s = proxy()) {
      sendGet(s, "localhost:" + app.port(), "/named/3");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    List<TestUpstream.Received> received = List.of(app.take(), app.take(), app.take());
    assertThat(received)
        .extracting(TestUpstream.Received::uri)
        .containsExactly("/named/1", "/named/2", "/named/3");
    assertThat(received.get(0).header("Host")).isEqualTo("localhost:" + app.port());
    assertThat(received.get(0).header("traceparent")).isNotNull();
    assertThat(received)
        .extracting(TestUpstream.Received::remotePort)
        .as("one kept connection to the name's address")
        .containsOnly(received.get(0).remotePort());
    assertThat(forwardProxy().handedOver()).isZero();
    List<String> spans = SpanLines.await(spanLog, 3);
    assertThat(SpanLines.tag(spans.get(0), "peer.address")).isEqualTo("localhost:" + app.port());
    assertThat(spans.get(0)).contains("\"ipv4\":\"127.0.0.1\""); // the address it went to
    assertThat(SpanLines.field(spans.get(2), "name")).isEqualTo("get /named/3");

    // a name of one of hoptrace's own listeners: the loop guard refuses it there (403)
    try (Socket s = proxy()) {
      sendGet(s, "localhost:" + proxyPort, "/");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 403");
    }
    assertThat(forwardProxy().handedOver()).isEqualTo(1);
  }

  @Test
  void aRouteToANameIsCarriedByTheRelay() throws Exception {
    start("routes.callee.listen", "0", "routes.callee.upstream", "localhost:" + app.port());
    try (Socket s = route("callee")) {
      send(
          s,
          lines("GET /a HTTP/1.1", "Host: callee", "", "GET /b HTTP/1.1", "Host: callee", "", ""));
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
    }
    TestUpstream.Received a = app.take();
    assertThat(a.uri()).isEqualTo("/a");
    assertThat(a.header("Host")).isEqualTo("localhost:" + app.port());
    assertThat(app.take().uri()).isEqualTo("/b");
    assertThat(hoptrace.outbound().relays().get(0).handedOver()).isZero();
    List<String> spans = SpanLines.await(spanLog, 2);
    assertThat(SpanLines.tag(spans.get(0), "hoptrace.route")).isEqualTo("callee");
  }

  @Test
  void handsToTheUndertowPathWhatItDoesNotCarry() throws Exception {
    start("outbound.port", "0", "admin.port", "0");
    int proxyPort = hoptrace.outbound().forwardProxyAddress().getPort();
    // a name that does not resolve: answered there (502)
    try (Socket s = proxy()) {
      sendGet(s, "no-such-host.invalid:" + app.port(), "/named");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 502");
    }
    assertThat(forwardProxy().handedOver()).isEqualTo(1);
    // origin-form names no target: refused there (400)
    try (Socket s = proxy()) {
      send(s, lines("GET /x HTTP/1.1", "Host: x", "", ""));
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 400");
    }
    // one of hoptrace's own listeners: the loop guard refuses it there (403)
    try (Socket s = proxy()) {
      sendGet(s, "127.0.0.1:" + proxyPort, "/");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 403");
    }
    // CONNECT: a tunnel, there (to a port not allowed: 403)
    try (Socket s = proxy()) {
      send(
          s,
          lines(
              "CONNECT 127.0.0.1:" + app.port() + " HTTP/1.1",
              "Host: 127.0.0.1:" + app.port(),
              "",
              ""));
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 403");
    }
    assertThat(forwardProxy().handedOver()).isEqualTo(4);
    String metrics =
        client
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + hoptrace.adminAddress().getPort() + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics).contains("hoptrace_outbound_relay_handed_over 4.0");
    List<String> spans = SpanLines.await(spanLog, 4);
    assertThat(spans).extracting(l -> SpanLines.field(l, "kind")).containsOnly("CLIENT");
  }

  @Test
  void aRefusedConnectionIs502WithProxyStatusAndASpanLine() throws Exception {
    int closed;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = free.getLocalPort();
    }
    start("outbound.port", "0");
    String response;
    try (Socket s = proxy()) {
      sendGet(s, "127.0.0.1:" + closed, "/gone");
      response = readResponse(s.getInputStream());
    }
    assertThat(response).startsWith("HTTP/1.1 502").containsIgnoringCase("proxy-status: ");
    assertThat(forwardProxy().handedOver()).isZero();
    String span = SpanLines.await(spanLog, 1).get(0);
    assertThat(SpanLines.tag(span, "http.status_code")).isEqualTo("502");
    assertThat(SpanLines.tag(span, "error")).isNotBlank();
    assertThat(SpanLines.tag(span, "peer.address")).isEqualTo("127.0.0.1:" + closed);
  }
}
