package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Undertow's Host check as hoptrace runs it (its patched copy of {@code HostHeaderHandler}, which
 * wraps every request's root handler) answers a bad Host with a bare 400: no span line, no counter.
 * The Hosts it would refuse that pass the head guard's byte checks (an IP literal that is no IPv6
 * address; an absolute-form or CONNECT target without the Host's host) are refused by the head
 * guard itself, which asks the same check ({@code HostHeaderHandler.valueCheck}): {@code bad_host}
 * with its answer, span line and counter, on the inbound listener and on the forward proxy. Through
 * real listeners, from a raw socket. The good ones reach the app.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostHeaderCheckTest extends GuardHarness {

  /**
   * A request (CRLF written {@code \\r\\n}, {@code %s} the target's authority) and the refusal's
   * detail. Before the head guard asked Undertow's check, that check answered each of them with a
   * bare 400 ("Host Header Malformed IP-Literal", "URI Host Header NO MATCH"), unseen.
   */
  static final String ROWS =
      """
      GET /p HTTP/1.1\\r\\nHost: [1.2.3]\\r\\n\\r\\n | malformed IP literal in Host
      GET /p HTTP/1.1\\r\\nHost: [12345::1]:80\\r\\n\\r\\n | malformed IP literal in Host
      GET /p HTTP/1.1\\r\\nHost: [::ffff:1.2.3.999]\\r\\n\\r\\n | malformed IP literal in Host
      GET /p HTTP/1.1\\r\\nHost:  [1:2:3:4:5:6:7:8:9]\\r\\n\\r\\n | malformed IP literal in Host
      GET http://%s/p HTTP/1.1\\r\\nHost: other\\r\\n\\r\\n | Host does not match the request target
      GET http://%s/p HTTP/1.1\\r\\nHost: [::1]:8080\\r\\n\\r\\n | Host does not match the request target
      GET http://%s/p?other HTTP/1.1\\r\\nHost: other\\r\\n\\r\\n | Host does not match the request target
      CONNECT %s HTTP/1.1\\r\\nHost: other\\r\\n\\r\\n | Host does not match the request target
      """;

  static String request(String template, String authority) {
    return String.format(template, authority).replace("\\r\\n", "\r\n");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = ROWS)
  void inbound_badHost_refusedByTheHeadGuard_badHostCounted_spanLine(String template, String detail)
      throws Exception {
    start();
    Raw answer = send(request(template, "app"));

    assertRefused(answer, detail, "SERVER");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = ROWS)
  void forwardProxy_badHost_refusedByTheHeadGuard_badHostCounted_spanLine(
      String template, String detail) throws Exception {
    start(
        "outbound.port", "0",
        "outbound.allowed-sources", "127.0.0.1/32");
    InetSocketAddress proxy = hoptrace.outbound().forwardProxyAddress();
    String authority = "127.0.0.1:" + app.port();
    // origin-form rows as absolute-form: the forward proxy's own form
    String target = template.replace("GET /p", "GET http://" + authority + "/p");
    Raw answer = Raw.send(proxy, request(target, authority), TIMEOUT);

    assertRefused(answer, detail, "CLIENT");
  }

  void assertRefused(Raw answer, String detail, String kind) throws Exception {
    assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
    assertThat(answer.header("Connection")).isEqualTo("close");
    assertThat(answer.header("Proxy-Status"))
        .isEqualTo("hoptrace; error=http_request_error; details=\"bad_host\"");
    assertThat(answer.closed()).as("closed after the answer: " + answer).isTrue();
    assertThat(refusals(RefusalReason.BAD_HOST)).isEqualTo(1);
    List<String> spans = awaitSpans(1);
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0))
        .contains("\"error\":\"refused: bad_host: " + detail)
        .contains("\"kind\":\"" + kind + "\"")
        .contains("\"http.status_code\":\"400\"");
    Thread.sleep(100);
    assertThat(app.requests).as("forwarded to the app").isEmpty();
    assertStillServes();
  }

  @Test
  void forwardProxy_absoluteFormWithItsHost_forwarded() throws Exception {
    start(
        "outbound.port", "0",
        "outbound.allowed-sources", "127.0.0.1/32");
    String authority = "127.0.0.1:" + app.port();
    Raw answer =
        Raw.send(
            hoptrace.outbound().forwardProxyAddress(),
            "GET http://"
                + authority
                + "/p HTTP/1.1\r\nHost: "
                + authority
                + "\r\nConnection: close\r\n\r\n",
            TIMEOUT);

    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
    assertThat(refusals(RefusalReason.BAD_HOST)).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "127.0.0.1:8080 | 127.0.0.1:8080",
        "app | app",
        "app:00080 | app:00080",
        "256.1.1.1 | 256.1.1.1",
        "[::1]:8080 | [::1]:8080",
        "a%41b | a%41b",
      })
  void goodHost_forwardedAsItCame(String host, String forwardedHost) throws Exception {
    start();
    Raw answer = send("GET /p HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");

    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
    assertThat(app.requests.get(0)).contains("\r\nHost: " + forwardedHost + "\r\n");
  }

  @Test
  void absoluteFormWithItsHost_forwarded() throws Exception {
    start();
    Raw answer =
        send("GET http://app:8080/p HTTP/1.1\r\nHost: app:8080\r\nConnection: close\r\n\r\n");

    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
  }

  @Test
  void absoluteFormOverTheCapturedBytes_withItsHostInTheAuthority_forwarded() throws Exception {
    start();
    String path = "/" + "a".repeat(HeadScanner.TARGET_CAPTURE + 100);
    Raw answer =
        send("GET http://app" + path + " HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");

    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
  }

  @Test
  void http10WithoutHost_forwarded() throws Exception {
    start();
    Raw answer = send("GET /p HTTP/1.0\r\n\r\n");

    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
  }
}
