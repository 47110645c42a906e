package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Undertow's Host check as hoptrace runs it (its patched copy of {@code HostHeaderHandler}, which
 * wraps every request's root handler): through a real inbound listener, from a raw socket. These
 * Hosts pass the head guard (which refuses most bad ones earlier with {@code bad_host}) and are
 * answered by the Host check itself: its status and reason, the connection closed, nothing
 * forwarded. The good ones reach the app.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostHeaderCheckTest extends GuardHarness {

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "GET /p HTTP/1.1\\r\\nHost: [1.2.3]\\r\\n\\r\\n | Host Header Malformed IP-Literal",
        "GET /p HTTP/1.1\\r\\nHost: [12345::1]:80\\r\\n\\r\\n | Host Header Malformed IP-Literal",
        "GET /p HTTP/1.1\\r\\nHost: [::ffff:1.2.3.999]\\r\\n\\r\\n | Host Header Malformed IP-Literal",
        "GET http://app/p HTTP/1.1\\r\\nHost: other\\r\\n\\r\\n | URI Host Header NO MATCH",
        "GET http://app/p HTTP/1.1\\r\\nHost: [::1]:8080\\r\\n\\r\\n | URI Host Header NO MATCH",
      })
  void badHost_400WithTheCheckReason_closed_nothingForwarded(String request, String reason)
      throws Exception {
    start();
    Raw answer = send(request.replace("\\r\\n", "\r\n"));

    assertThat(answer.text()).as(answer.toString()).startsWith("HTTP/1.1 400 " + reason + "\r\n");
    assertThat(answer.header("Connection")).isEqualTo("close");
    assertThat(answer.closed()).as("closed after the answer: " + answer).isTrue();
    Thread.sleep(100);
    assertThat(app.requests).as("forwarded to the app").isEmpty();
    assertStillServes();
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
  void http10WithoutHost_forwarded() throws Exception {
    start();
    Raw answer = send("GET /p HTTP/1.0\r\n\r\n");

    assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
    assertThat(app.requests).hasSize(1);
  }
}
