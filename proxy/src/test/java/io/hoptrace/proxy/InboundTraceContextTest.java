package io.hoptrace.proxy;

import static io.hoptrace.proxy.SpanLines.field;
import static io.hoptrace.proxy.SpanLines.tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the inbound hop does with the caller's trace context, over real sockets. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InboundTraceContextTest extends InboundHarness {
  static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String PARENT_ID = "00f067aa0ba902b7";
  static final String VALID = "00-" + TRACE_ID + "-" + PARENT_ID + "-01";

  @Test
  void validTraceparent_isContinued() throws Exception {
    start();
    HttpResponse<String> response =
        get("/orders/7", "traceparent", VALID, "tracestate", "congo=t61rcWkgMzE");

    TestUpstream.Received received = app.take();
    var sent = TRACEPARENT.matcher(received.header("traceparent"));
    assertThat(sent.matches()).isTrue();
    assertThat(sent.group(1)).isEqualTo(TRACE_ID);
    assertThat(sent.group(2)).isNotEqualTo(PARENT_ID); // the app's parent is hoptrace's span
    assertThat(received.header("tracestate")).isEqualTo("congo=t61rcWkgMzE");

    String span = SpanLines.line(spanLog, 1);
    assertThat(field(span, "traceId")).isEqualTo(TRACE_ID);
    assertThat(field(span, "parentId")).isEqualTo(PARENT_ID);
    assertThat(field(span, "id")).isEqualTo(sent.group(2));
    assertThat(tag(span, "hoptrace.context")).isEqualTo("extracted");
    assertThat(tag(span, "hoptrace.rejected")).isNull();
    assertThat(response.headers().firstValue("traceresponse"))
        .hasValue("00-" + TRACE_ID + "-" + sent.group(2) + "-01");
  }

  /** The invalid forms of W3C Trace Context §3.2 (and its test suite): each restarts the trace. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff is forbidden
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // 00 with extra field
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase hex
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // trace id too short
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01", // trace id too long
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", // parent id too short
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", // flags too short
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", // flags not hex
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902z7-01", // parent id not hex
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", // wrong delimiter
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version too short
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // no flags
        "garbage",
      })
  void invalidTraceparent_isRestarted_andNeverReachesTheAppVerbatim(String invalid)
      throws Exception {
    start();
    get("/", "traceparent", invalid);

    TestUpstream.Received received = app.take();
    String sent = received.header("traceparent");
    assertThat(sent).isNotEqualTo(invalid);
    var parsed = TRACEPARENT.matcher(sent);
    assertThat(parsed.matches()).as(sent).isTrue();
    assertThat(parsed.group(1)).isNotEqualTo(TRACE_ID);

    String span = SpanLines.line(spanLog, 1);
    assertThat(tag(span, "hoptrace.context")).isEqualTo("restarted");
    assertThat(tag(span, "hoptrace.rejected")).contains(invalid);
    assertThat(span).doesNotContain("parentId");
    assertThat(field(span, "id")).isEqualTo(parsed.group(2));
  }

  @Test
  void duplicatedTraceparent_isRestarted() throws Exception {
    start();
    get("/", "traceparent", VALID, "traceparent", VALID);
    assertThat(app.take().header("traceparent")).doesNotContain(TRACE_ID);
    assertThat(tag(SpanLines.line(spanLog, 1), "hoptrace.context")).isEqualTo("restarted");
  }

  @Test
  void untrustedSource_isRestarted_evenWhenValid() throws Exception {
    start("trust.sources", "10.0.0.0/8"); // the test client is 127.0.0.1: not trusted
    get("/", "traceparent", VALID);
    assertThat(app.take().header("traceparent")).doesNotContain(TRACE_ID);
    String span = SpanLines.line(spanLog, 1);
    assertThat(tag(span, "hoptrace.context")).isEqualTo("restarted");
    assertThat(tag(span, "hoptrace.rejected")).contains(VALID);
  }

  @Test
  void b3Single_isExtracted_andInjectedWhenEnabled() throws Exception {
    start("propagation.b3", "single");
    get("/", "b3", TRACE_ID + "-" + PARENT_ID + "-1");
    TestUpstream.Received received = app.take();
    assertThat(received.header("traceparent")).contains(TRACE_ID);
    assertThat(received.header("b3")).startsWith(TRACE_ID + "-");
    String span = SpanLines.line(spanLog, 1);
    assertThat(tag(span, "hoptrace.context")).isEqualTo("extracted");
    assertThat(field(span, "parentId")).isEqualTo(PARENT_ID);
  }

  @Test
  void request_isRegistered_inFlightWhileAtTheApp_andFindableAfterItEnds() throws Exception {
    start();
    var slow =
        client.sendAsync(
            java.net.http.HttpRequest.newBuilder(uri("/sleep?ms=500")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    TestUpstream.Received received = app.take();
    var sent = TRACEPARENT.matcher(received.header("traceparent"));
    assertThat(sent.matches()).isTrue();
    long spanId = Long.parseUnsignedLong(sent.group(2), 16);

    var registry = hoptrace.registry();
    var inFlight = registry.soleInFlight();
    assertThat(inFlight).isNotNull();
    assertThat(inFlight.context().spanId()).isEqualTo(spanId);
    assertThat(inFlight.requestId()).isEqualTo(received.header("X-Request-Id"));
    assertThat(registry.findByRequestId(received.header("X-Request-Id"))).isSameAs(inFlight);

    assertThat(slow.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    SpanLines.await(spanLog, 1); // the exchange completed
    assertThat(inFlight.isEnded()).isTrue();
    // Ended: remembered as a compact record, found as a copy with the same identity.
    var ended = registry.findBySpanId(spanId);
    assertThat(ended).isNotNull();
    assertThat(ended.context()).isEqualTo(inFlight.context());
    assertThat(ended.requestId()).isEqualTo(inFlight.requestId());
    assertThat(ended.routeKey()).isEqualTo(inFlight.routeKey());
    assertThat(ended.isEnded()).isTrue();
    assertThat(registry.findByRequestId(received.header("X-Request-Id")).context())
        .isEqualTo(inFlight.context());
    assertThat(registry.inFlightCount()).isZero();
  }

  @Test
  void staleB3_isRemoved_whenB3IsOff() throws Exception {
    start();
    get(
        "/",
        "traceparent",
        VALID,
        "X-B3-TraceId",
        "1111111111111111",
        "X-B3-SpanId",
        "2222222222222222");
    TestUpstream.Received received = app.take();
    assertThat(received.header("X-B3-TraceId")).isNull();
    assertThat(received.header("X-B3-SpanId")).isNull();
  }
}
