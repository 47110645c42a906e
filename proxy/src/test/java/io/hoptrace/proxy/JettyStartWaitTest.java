package io.hoptrace.proxy;

import static io.hoptrace.proxy.SpanLines.tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.proxy.testing.Clients;
import io.hoptrace.proxy.upstream.UpstreamClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A request handed to the lazily started Jetty client waits for its start {@code
 * upstream.connect-timeout} at most: a start that hangs answers it 502 with the reason, counted and
 * in its span line, and a later request uses the client once the start has ended.
 *
 * <p>hoptrace in-process with the default same-loop transport, a real app, the JDK HttpClient. The
 * start is held by a bean of the Jetty client ({@link StartGate}, added as a connection listener:
 * Jetty starts its beans with the client, on the thread that starts it), so the start hangs for as
 * long as the test says and no longer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JettyStartWaitTest extends InboundHarness {
  private static final String TIMED_OUT =
      "connect: the upstream client did not start in 300ms (upstream.connect-timeout)";

  private final StartGate gate = new StartGate();

  /** Holds the Jetty client's start until released. */
  static final class StartGate extends AbstractLifeCycle implements Connection.Listener {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger starts = new AtomicInteger();

    @Override
    protected void doStart() throws Exception {
      starts.incrementAndGet();
      entered.countDown();
      if (!release.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
    }
  }

  @AfterEach
  void releaseTheStart() {
    gate.release.countDown(); // before the harness closes hoptrace
  }

  /**
   * curl's POST with {@code Expect: 100-continue} (one of the requests same-loop hands to Jetty):
   * the body, then the status and a new line. curl, not the JDK's HttpClient: Java 17's waits
   * forever for a 100 when the answer is a final status (JDK-8286171, fixed in 19).
   */
  private String postExpectingContinue(String body) throws Exception {
    Clients.Result curl =
        Clients.curl(
            uri("/jetty").toString(),
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            body,
            "-w",
            "%{http_code}\n",
            "-o",
            "-");
    assertThat(curl.exit()).as(curl.out()).isZero();
    return curl.out();
  }

  private String metrics() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + hoptrace.adminAddress().getPort() + "/metrics");
    return client
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void aHungStart_answers502AfterTheConnectTimeout_withSpanAndMetric_thenTheClientServes()
      throws Exception {
    start("upstream.connect-timeout", "300ms", "admin.host", "127.0.0.1", "admin.port", "0");
    UpstreamClient jetty = hoptrace.upstreamClient();
    jetty.addConnectionListener(gate); // before the first request that needs Jetty

    assertThat(postExpectingContinue("first")).isEqualTo("502 Bad Gateway\n502\n");
    assertThat(gate.entered.await(5, TimeUnit.SECONDS)).as("the start began").isTrue();
    String line = SpanLines.line(spanLog, 1);
    assertThat(tag(line, "http.path")).isEqualTo("/jetty");
    assertThat(tag(line, "http.status_code")).isEqualTo("502");
    assertThat(tag(line, "error")).isEqualTo(TIMED_OUT);
    assertThat(metrics())
        .contains("hoptrace_upstream_jetty_start_wait_timeouts 1.0")
        .contains("hoptrace_upstream_errors_connect_total 1.0")
        .contains("hoptrace_upstream_jetty_start_failures 0.0")
        .contains("hoptrace_upstream_jetty_started 0.0");
    assertThat(app.received).as("nothing reached the app").isEmpty();

    // The start ends: the next request goes through that client (no second start).
    gate.release.countDown();
    for (int i = 0; i < 1_000 && !jetty.started(); i++) Thread.sleep(10);
    assertThat(postExpectingContinue("second")).isEqualTo("second200\n"); // the app echoes it
    assertThat(app.take().uri()).isEqualTo("/jetty");
    String second = SpanLines.line(spanLog, 2);
    assertThat(tag(second, "http.status_code")).isEqualTo("200");
    assertThat(tag(second, "error")).isNull();
    assertThat(gate.starts.get()).isEqualTo(1);
    assertThat(metrics())
        .contains("hoptrace_upstream_jetty_start_wait_timeouts 1.0")
        .contains("hoptrace_upstream_errors_connect_total 1.0")
        .contains("hoptrace_upstream_jetty_started 1.0");
  }
}
