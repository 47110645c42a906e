package io.hoptrace.proxy.appspans;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.hoptrace.span.Kind;
import java.io.ByteArrayInputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code POST /spans} accepts, and the reason it gives for what it does not. */
class AppSpanReaderTest {
  static final String TS = "1700000000000000";
  static final String OK = "{\"name\":\"cache get\",\"timestamp\":" + TS + ",\"duration\":5}";

  final AppSpanReader reader = new AppSpanReader(3, 4096);

  List<AppSpan> read(String json) throws Exception {
    return reader.read(new ByteArrayInputStream(json.getBytes(UTF_8)));
  }

  AppSpanRejection rejected(String json) {
    AppSpanRejection r = catchThrowableOfType(AppSpanRejection.class, () -> read(json));
    assertThat(r).as(json).isNotNull();
    return r;
  }

  void assertBadField(String span, String message) {
    AppSpanRejection r = rejected("[" + OK + "," + span + "]");
    assertThat(r.status).isEqualTo(400);
    assertThat(r.reason).isEqualTo(AppSpanRejection.BAD_FIELD);
    assertThat(r.getMessage()).isEqualTo(message);
  }

  @Test
  void read_spanWithoutIds_isKeptForTheCorrelator() throws Exception {
    List<AppSpan> spans = read("[" + OK + "]");

    assertThat(spans).hasSize(1);
    AppSpan s = spans.get(0);
    assertThat(s.hasTraceId()).isFalse();
    assertThat(s.id()).isZero();
    assertThat(s.kind()).isEqualTo(Kind.LOCAL);
    assertThat(s.name()).isEqualTo("cache get");
    assertThat(s.timestampMicros()).isEqualTo(1_700_000_000_000_000L);
    assertThat(s.durationMicros()).isEqualTo(5);
    assertThat(s.serviceName()).isNull();
  }

  @Test
  void read_fullZipkinSpan_keepsWhatTheSpanLineHolds() throws Exception {
    List<AppSpan> spans =
        read(
            "[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"b7ad6b7169203331\","
                + "\"parentId\":\"00f067aa0ba902b7\",\"kind\":\"PRODUCER\",\"name\":\"publish\","
                + "\"timestamp\":"
                + TS
                + ",\"duration\":12,\"localEndpoint\":{\"serviceName\":\"orders\",\"ipv4\":\"10.0.0.1\"},"
                + "\"remoteEndpoint\":{\"serviceName\":\"kafka\",\"ipv6\":\"::1\",\"port\":9092},"
                + "\"annotations\":[{\"timestamp\":"
                + TS
                + ",\"value\":\"x\"}],\"debug\":true,\"shared\":false,"
                + "\"tags\":{\"queue\":\"orders\",\"n\":3,\"ok\":true}}]");

    AppSpan s = spans.get(0);
    assertThat(s.traceIdHigh()).isEqualTo(0x0af7651916cd43ddL);
    assertThat(s.traceIdLow()).isEqualTo(0x8448eb211c80319cL);
    assertThat(s.id()).isEqualTo(0xb7ad6b7169203331L);
    assertThat(s.parentId()).isEqualTo(0x00f067aa0ba902b7L);
    assertThat(s.kind()).isEqualTo(Kind.PRODUCER);
    assertThat(s.serviceName()).isEqualTo("orders");
    assertThat(s.remoteIp()).isEqualTo("::1");
    assertThat(s.remotePort()).isEqualTo(9092);
    assertThat(s.tags()).containsExactly("queue", "orders", "n", "3", "ok", "true");
  }

  @Test
  void read_shortTraceId_isTheLowHalf() throws Exception {
    AppSpan s =
        read("[{\"traceId\":\"8448eb211c80319c\",\"id\":\"b7ad6b7169203331\",\"timestamp\":"
                + TS
                + "}]")
            .get(0);
    assertThat(s.traceIdHigh()).isZero();
    assertThat(s.traceIdLow()).isEqualTo(0x8448eb211c80319cL);
  }

  @Test
  void read_emptyArray_isNoSpans() throws Exception {
    assertThat(read("[]")).isEmpty();
  }

  @Test
  void read_notAnArray_is400() {
    AppSpanRejection r = rejected("{\"name\":\"x\"}");
    assertThat(r.status).isEqualTo(400);
    assertThat(r.getMessage()).isEqualTo("body: {...} (expected: a JSON array of Zipkin v2 spans)");
  }

  @Test
  void read_emptyBody_is400() {
    assertThat(rejected("").getMessage())
        .isEqualTo("body: empty (expected: a JSON array of Zipkin v2 spans)");
  }

  @Test
  void read_brokenJson_is400WithTheLocation() {
    AppSpanRejection r = rejected("[{\"name\":\"x\",}]");
    assertThat(r.status).isEqualTo(400);
    assertThat(r.reason).isEqualTo(AppSpanRejection.BAD_JSON);
    assertThat(r.getMessage()).startsWith("body: invalid JSON at line 1, column 14: ");
  }

  @Test
  void read_truncatedJson_is400() {
    AppSpanRejection r = rejected("[" + OK + ",{\"name\":");
    assertThat(r.status).isEqualTo(400);
    assertThat(r.reason).isEqualTo(AppSpanRejection.BAD_JSON);
  }

  @Test
  void read_contentAfterTheArray_is400() {
    assertThat(rejected("[] []").getMessage())
        .isEqualTo("body: content after the array (expected: one array)");
  }

  @Test
  void read_elementNotAnObject_is400() {
    assertBadField("42", "spans[1]: 42 (expected: a span object)");
  }

  @Test
  void read_badId_namesTheSpanAndField() {
    assertBadField(
        "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"xyz\",\"timestamp\":"
            + TS
            + "}",
        "spans[1].id: \"xyz\" (expected: 16 lowercase hex, not all zeros)");
  }

  @Test
  void read_uppercaseId_is400() {
    assertBadField(
        "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"B7AD6B7169203331\",\"timestamp\":"
            + TS
            + "}",
        "spans[1].id: \"B7AD6B7169203331\" (expected: 16 lowercase hex, not all zeros)");
  }

  @Test
  void read_zeroTraceId_is400() {
    assertBadField(
        "{\"traceId\":\"00000000000000000000000000000000\",\"id\":\"b7ad6b7169203331\"}",
        "spans[1].traceId: \"00000000000000000000000000000000\" (expected: 16 or 32 lowercase hex,"
            + " not all zeros)");
  }

  @Test
  void read_traceIdOfWrongLength_is400() {
    assertBadField(
        "{\"traceId\":\"0af7651916cd43dd8448\",\"id\":\"b7ad6b7169203331\"}",
        "spans[1].traceId: \"0af7651916cd43dd8448\" (expected: 16 or 32 lowercase hex, not all"
            + " zeros)");
  }

  @Test
  void read_traceIdWithoutId_is400() {
    assertBadField(
        "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"timestamp\":" + TS + "}",
        "spans[1].id: missing (expected: 16 lowercase hex with a traceId)");
  }

  @Test
  void read_parentIdWithoutTraceId_is400() {
    assertBadField(
        "{\"parentId\":\"00f067aa0ba902b7\",\"timestamp\":" + TS + "}",
        "spans[1].parentId: 00f067aa0ba902b7 (expected: absent without a traceId: hoptrace links"
            + " the span to its inbound request)");
  }

  @Test
  void read_unknownKind_is400() {
    assertBadField(
        "{\"kind\":\"client\",\"timestamp\":" + TS + "}",
        "spans[1].kind: \"client\" (expected: CLIENT, SERVER, PRODUCER or CONSUMER; absent for a"
            + " local span)");
  }

  @Test
  void read_missingTimestamp_is400() {
    assertBadField(
        "{\"name\":\"x\"}",
        "spans[1].timestamp: missing (expected: epoch microseconds, e.g. 1700000000000000)");
  }

  @Test
  void read_timestampInMilliseconds_is400() {
    assertBadField(
        "{\"timestamp\":1700000000000}",
        "spans[1].timestamp: 1700000000000 (expected: epoch microseconds, e.g. 1700000000000000)");
  }

  @Test
  void read_timestampAsString_is400() {
    assertBadField(
        "{\"timestamp\":\"" + TS + "\"}",
        "spans[1].timestamp: \"1700000000000000\" (expected: epoch microseconds, e.g."
            + " 1700000000000000)");
  }

  @Test
  void read_negativeDuration_is400() {
    assertBadField(
        "{\"timestamp\":" + TS + ",\"duration\":-1}",
        "spans[1].duration: -1 (expected: an integer in 0..3155760000000000)");
  }

  @Test
  void read_tagValueObject_is400() {
    assertBadField(
        "{\"timestamp\":" + TS + ",\"tags\":{\"a\":{\"b\":1}}}",
        "spans[1].tags.a: {...} (expected: a string)");
  }

  @Test
  void read_reservedTag_is400() {
    assertBadField(
        "{\"timestamp\":" + TS + ",\"tags\":{\"hoptrace.link\":\"header\"}}",
        "spans[1].tags.hoptrace.link: \"header\" (expected: no tag starting with hoptrace.:"
            + " hoptrace writes those)");
  }

  @Test
  void read_badRemotePort_is400() {
    assertBadField(
        "{\"timestamp\":" + TS + ",\"remoteEndpoint\":{\"port\":70000}}",
        "spans[1].remoteEndpoint.port: 70000 (expected: an integer in 0..65535)");
  }

  @Test
  void read_badIpv4_is400() {
    assertBadField(
        "{\"timestamp\":" + TS + ",\"remoteEndpoint\":{\"ipv4\":\"redis.local\"}}",
        "spans[1].remoteEndpoint.ipv4: \"redis.local\" (expected: an IPv4 address)");
  }

  @Test
  void read_longBadValue_isShownCutShort() {
    String id = "x".repeat(100);
    AppSpanRejection r =
        rejected("[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"id\":\"" + id + "\"}]");
    assertThat(r.getMessage())
        .isEqualTo(
            "spans[0].id: \""
                + "x".repeat(64)
                + "\u2026\" (expected: 16 lowercase hex, not all zeros)");
  }

  @Test
  void read_moreSpansThanAllowed_is413() {
    AppSpanRejection r = rejected("[" + OK + "," + OK + "," + OK + "," + OK + "]");
    assertThat(r.status).isEqualTo(413);
    assertThat(r.reason).isEqualTo(AppSpanRejection.TOO_LARGE);
    assertThat(r.getMessage())
        .isEqualTo(
            "spans: more than 3 (expected: at most admin.spans.max-spans-per-request = 3 per"
                + " request)");
  }

  @Test
  void read_bodyOverTheLimit_is413() {
    AppSpanRejection r = rejected("[" + OK + ",{\"name\":\"" + "a".repeat(5000) + "\"}]");
    assertThat(r.status).isEqualTo(413);
    assertThat(r.getMessage())
        .isEqualTo("body: more than 4096 bytes (expected: at most admin.spans.max-body)");
  }

  @Test
  void read_deepNesting_is400NotAStackOverflow() {
    String deep = "[".repeat(1000);
    AppSpanRejection r = rejected("[{\"timestamp\":" + TS + ",\"x\":" + deep + "}]");
    assertThat(r.status).isEqualTo(400);
    assertThat(r.getMessage()).contains("nesting depth");
  }
}
