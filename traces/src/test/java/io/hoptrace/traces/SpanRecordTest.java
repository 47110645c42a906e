package io.hoptrace.traces;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpanRecordTest {
  static final String LINE =
      "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"a000000000000004\","
          + "\"parentId\":\"a000000000000003\",\"kind\":\"CLIENT\",\"name\":\"get /stock/42\","
          + "\"timestamp\":1795600800003000,\"duration\":20000,"
          + "\"localEndpoint\":{\"serviceName\":\"orders\"},"
          + "\"remoteEndpoint\":{\"ipv4\":\"10.0.2.7\",\"port\":7001},"
          + "\"tags\":{\"http.status_code\":\"503\",\"error\":\"503\",\"hoptrace.link\":\"inferred\","
          + "\"hoptrace.candidates\":\"3\"}}";

  @Test
  void parse_fullLine_readsEveryField() {
    SpanRecord s = SpanRecord.parse(LINE);
    assertThat(s).isNotNull();
    assertThat(s.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(s.id()).isEqualTo("a000000000000004");
    assertThat(s.parentId()).isEqualTo("a000000000000003");
    assertThat(s.kind()).isEqualTo("CLIENT");
    assertThat(s.name()).isEqualTo("get /stock/42");
    assertThat(s.timestampMicros()).isEqualTo(1795600800003000L);
    assertThat(s.durationMicros()).isEqualTo(20000);
    assertThat(s.serviceName()).isEqualTo("orders");
    assertThat(s.remoteIp()).isEqualTo("10.0.2.7");
    assertThat(s.remotePort()).isEqualTo(7001);
    assertThat(s.tags()).containsEntry("hoptrace.candidates", "3").hasSize(4);
    assertThat(s.isError()).isTrue();
    assertThat(s.isInferred()).isTrue();
    assertThat(s.line()).isEqualTo(LINE);
  }

  @Test
  void parse_unknownFieldsAndAnnotations_areSkipped() {
    String line =
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"a000000000000001\","
            + "\"annotations\":[{\"timestamp\":1,\"value\":\"ws\"}],\"shared\":true,\"debug\":false}";
    SpanRecord s = SpanRecord.parse(line);
    assertThat(s).isNotNull();
    assertThat(s.parentId()).isNull();
    assertThat(s.serviceName()).isEqualTo("unknown");
  }

  @Test
  void parse_64bitTraceId_isWidened() {
    SpanRecord s =
        SpanRecord.parse("{\"traceId\":\"A3CE929D0E0E4736\",\"id\":\"00f067aa0ba902b7\"}");
    assertThat(s).isNotNull();
    assertThat(s.traceId()).isEqualTo("0000000000000000a3ce929d0e0e4736");
  }

  @Test
  void parse_zeroParentId_isRoot() {
    SpanRecord s =
        SpanRecord.parse(
            "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\","
                + "\"parentId\":\"0000000000000000\"}");
    assertThat(s).isNotNull();
    assertThat(s.parentId()).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "not json",
        "[]",
        "{}",
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}",
        "{\"id\":\"00f067aa0ba902b7\"}",
        "{\"traceId\":\"xyz92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\"}",
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902\"}",
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\",\"parentId\":\"zz\"}",
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\"",
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\"}{}",
        "{\"traceId\":4,\"id\":\"00f067aa0ba902b7\"}",
        "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\",\"tags\":{\"a\":",
      })
  void parse_malformed_isNull(String line) {
    assertThat(SpanRecord.parse(line)).isNull();
  }

  @Test
  void parse_overlongLine_isNull() {
    String tag = "x".repeat(SpanRecord.MAX_LINE_LENGTH);
    String line = LINE.replace("\"error\":\"503\"", "\"error\":\"" + tag + "\"");
    assertThat(line).hasSizeGreaterThan(SpanRecord.MAX_LINE_LENGTH);
    assertThat(SpanRecord.parse(line)).isNull();
  }

  @Property(tries = 2000)
  void parse_anyText_neverThrows(@ForAll String line) {
    SpanRecord.parse(line);
  }

  @Property(tries = 2000)
  void parse_truncatedLine_neverThrows(@ForAll("prefixLength") int cut) {
    SpanRecord s = SpanRecord.parse(LINE.substring(0, Math.min(cut, LINE.length())));
    if (cut < LINE.length()) assertThat(s).isNull();
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<Integer> prefixLength() {
    return net.jqwik.api.Arbitraries.integers().between(0, LINE.length() + 5);
  }
}
