package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.outbound.Refusal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The outbound listeners' refusals are refusals like the guard's: the status with {@code
 * Proxy-Status}, the connection closed, one CLIENT span line ({@code error} = {@code refused:
 * <reason>: <detail>}, {@code hoptrace.link} = {@code root}, a new trace), a counter per reason,
 * and nothing reaches the target. Over real sockets against a real hoptrace: raw requests and curl
 * as the app.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OutboundRefusalTest extends GuardHarness {

  void startWithProxy() throws Exception {
    start(
        "outbound.port", "0",
        "outbound.allowed-sources", "127.0.0.1/32",
        "outbound.connect-ports", "443");
  }

  InetSocketAddress proxy() {
    return hoptrace.outbound().forwardProxyAddress();
  }

  long counter(Refusal reason) {
    return hoptrace.metrics().counter(reason.metricName()).getCount();
  }

  /** The one span line the refusal wrote. */
  String refusalSpan(Refusal reason, String detail) throws Exception {
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    String span = spans.get(0);
    assertThat(span)
        .contains("\"kind\":\"CLIENT\"")
        .contains("\"http.status_code\":\"" + reason.status() + "\"")
        .contains("\"error\":\"refused: " + reason.tagValue() + ": " + detail)
        .contains("\"hoptrace.link\":\"root\"")
        .doesNotContain("\"parentId\"")
        .contains("\"serviceName\":\"guarded\"");
    return span;
  }

  void assertRefusedAnswer(Raw answer, Refusal reason, String proxyStatusError) {
    assertThat(answer.status()).as(answer.toString()).isEqualTo(reason.status());
    assertThat(answer.closed()).as("closed after the answer: " + answer).isTrue();
    assertThat(answer.header("Proxy-Status")).startsWith("hoptrace; error=" + proxyStatusError);
  }

  @Test
  void sourceOutsideAllowedRanges_is403_spanCounter_nothingForwarded() throws Exception {
    startWithProxy();
    assertThat(counter(Refusal.SOURCE)).isZero(); // exported from the start
    String request =
        "GET http://127.0.0.1:" + app.port() + "/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    Raw answer;
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
      socket.connect(proxy(), TIMEOUT);
      socket.setSoTimeout(TIMEOUT);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      answer = Raw.read(socket, System.nanoTime());
    }

    assertRefusedAnswer(answer, Refusal.SOURCE, "http_request_denied");
    assertThat(answer.text()).contains("source address not allowed: 127.0.0.2");
    assertThat(counter(Refusal.SOURCE)).isEqualTo(1);
    String span = refusalSpan(Refusal.SOURCE, "127.0.0.2");
    assertThat(span).contains("\"ipv4\":\"127.0.0.2\"");
    assertThat(app.requests).as("forwarded to the app").isEmpty();
  }

  @Test
  void connectToPortNotAllowed_is403_spanCounter_nothingConnected() throws Exception {
    startWithProxy();
    try (ServerSocket target = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      int port = target.getLocalPort();
      Raw answer =
          Raw.send(
              proxy(),
              "CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n",
              TIMEOUT);

      assertRefusedAnswer(answer, Refusal.CONNECT_PORT, "http_request_denied");
      assertThat(counter(Refusal.CONNECT_PORT)).isEqualTo(1);
      String span = refusalSpan(Refusal.CONNECT_PORT, port + " (allowed: [443])");
      assertThat(span).contains("\"name\":\"connect ");
      target.setSoTimeout(300);
      boolean connected;
      try {
        target.accept().close();
        connected = true;
      } catch (SocketTimeoutException e) {
        connected = false;
      }
      assertThat(connected).as("a connection reached the target").isFalse();
    }
  }

  @Test
  void targetIsHoptraceItself_curl_is403Loop_spanCounter_nothingForwarded() throws Exception {
    startWithProxy();
    String url = "http://127.0.0.1:" + inbound().getPort() + "/orders/42";
    Process curl =
        new ProcessBuilder(
                "curl",
                "-sS",
                "--max-time",
                "10",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-x",
                "http://127.0.0.1:" + proxy().getPort(),
                url)
            .redirectErrorStream(true)
            .start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(curl.waitFor(15, TimeUnit.SECONDS)).isTrue();

    assertThat(out).isEqualTo("403");
    assertThat(counter(Refusal.LOOP)).isEqualTo(1);
    String span = refusalSpan(Refusal.LOOP, "127.0.0.1:" + inbound().getPort());
    assertThat(span).contains("\"name\":\"get /orders/42\"");
    Thread.sleep(100);
    assertThat(app.requests).as("looped round to the app").isEmpty();
    assertThat(spanLines()).as("no inbound SERVER span: nothing looped").hasSize(1);
  }

  @Test
  void originFormOnForwardPort_is400_spanCounter_nothingForwarded() throws Exception {
    startWithProxy();
    Raw answer = Raw.send(proxy(), "GET /orders/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", TIMEOUT);

    assertRefusedAnswer(answer, Refusal.ORIGIN_FORM, "http_request_error");
    assertThat(answer.text()).contains("absolute-form");
    assertThat(counter(Refusal.ORIGIN_FORM)).isEqualTo(1);
    refusalSpan(Refusal.ORIGIN_FORM, "/orders/42");
    assertThat(app.requests).isEmpty();
  }

  @Test
  void httpsInAbsoluteForm_is400BadTarget_spanCounter() throws Exception {
    startWithProxy();
    Raw answer =
        Raw.send(
            proxy(),
            "GET https://127.0.0.1:" + app.port() + "/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            TIMEOUT);

    assertRefusedAnswer(answer, Refusal.BAD_TARGET, "http_request_error");
    assertThat(counter(Refusal.BAD_TARGET)).isEqualTo(1);
    refusalSpan(Refusal.BAD_TARGET, "only http:// is forwarded");
    assertThat(app.requests).isEmpty();
  }

  @Test
  void connectOnRoutePort_is400BadTarget_spanCounter() throws Exception {
    start("routes.orders.listen", "0", "routes.orders.upstream", "127.0.0.1:" + app.port());
    InetSocketAddress route = hoptrace.outbound().routeAddresses().get("orders");
    Raw answer =
        Raw.send(
            route,
            "CONNECT 127.0.0.1:" + app.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            TIMEOUT);

    assertRefusedAnswer(answer, Refusal.BAD_TARGET, "http_request_error");
    assertThat(counter(Refusal.BAD_TARGET)).isEqualTo(1);
    refusalSpan(Refusal.BAD_TARGET, "CONNECT on a route port");
    assertThat(app.requests).isEmpty();
  }
}
