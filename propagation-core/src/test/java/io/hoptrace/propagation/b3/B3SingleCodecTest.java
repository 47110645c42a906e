package io.hoptrace.propagation.b3;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** openzipkin/b3-propagation, single header; one malformed input per test. */
class B3SingleCodecTest {
  static final String TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
  static final String SPAN_ID = "e457b5a2e4d86bd1";
  static final String PARENT_ID = "05e3ac9a4f6e3b90";

  @Test
  void parse_fullForm_readsAllFields() {
    TraceContext c = B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-1-" + PARENT_ID);

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(c.spanIdString()).isEqualTo(SPAN_ID);
    assertThat(c.parentIdString()).isEqualTo(PARENT_ID);
    assertThat(c.sampled()).isTrue();
  }

  @Test
  void parse_idsOnly_isSampledByDefault() {
    TraceContext c = B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID);

    assertThat(c).isNotNull();
    assertThat(c.sampled()).isTrue();
    assertThat(c.hasParent()).isFalse();
  }

  @Test
  void parse_notSampled_clearsSampled() {
    TraceContext c = B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-0");

    assertThat(c).isNotNull();
    assertThat(c.sampled()).isFalse();
  }

  @Test
  void parse_debug_isSampled() {
    TraceContext c = B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-d");

    assertThat(c).isNotNull();
    assertThat(c.sampled()).isTrue();
  }

  @Test
  void parse_64BitTraceId_isLeftPadded() {
    TraceContext c = B3SingleCodec.parse("64fe8b2a57d3eff7-" + SPAN_ID + "-1");

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo("000000000000000064fe8b2a57d3eff7");
  }

  @Test
  void parse_samplingOnly_carriesNoContext() {
    for (String s : new String[] {"0", "1", "d"}) {
      assertThat(B3SingleCodec.parse(s)).isNull();
      assertThat(B3SingleCodec.isSamplingOnly(s)).isTrue();
    }
    assertThat(B3SingleCodec.isSamplingOnly("2")).isFalse();
    assertThat(B3SingleCodec.isSamplingOnly(TRACE_ID + "-" + SPAN_ID)).isFalse();
  }

  @Test
  void parse_uppercaseHex_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID.toUpperCase(Locale.ROOT) + "-" + SPAN_ID)).isNull();
  }

  @Test
  void parse_badSamplingChar_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-2")).isNull();
  }

  @Test
  void parse_parentWithoutSampling_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-" + PARENT_ID)).isNull();
  }

  @Test
  void parse_traceIdWrongLength_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID.substring(1) + "-" + SPAN_ID)).isNull();
    assertThat(B3SingleCodec.parse(TRACE_ID.substring(8) + "-" + SPAN_ID)).isNull();
  }

  @Test
  void parse_spanIdTooShort_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID.substring(1))).isNull();
  }

  @Test
  void parse_spanIdTooLong_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "0")).isNull();
  }

  @Test
  void parse_parentIdTooShort_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-1-" + PARENT_ID.substring(1)))
        .isNull();
  }

  @Test
  void parse_allZeroTraceId_isInvalid() {
    assertThat(B3SingleCodec.parse("0".repeat(32) + "-" + SPAN_ID)).isNull();
  }

  @Test
  void parse_allZeroSpanId_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + "0".repeat(16))).isNull();
  }

  @Test
  void parse_trailingDash_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-")).isNull();
  }

  @Test
  void parse_trailingData_isInvalid() {
    assertThat(B3SingleCodec.parse(TRACE_ID + "-" + SPAN_ID + "-1-" + PARENT_ID + "-x")).isNull();
  }

  @Test
  void parse_empty_isInvalid() {
    assertThat(B3SingleCodec.parse("")).isNull();
  }

  @Test
  void toString_64BitTraceId_writes16Hex() {
    TraceContext c = B3SingleCodec.parse("64fe8b2a57d3eff7-" + SPAN_ID + "-1");

    assertThat(B3SingleCodec.toString(c)).isEqualTo("64fe8b2a57d3eff7-" + SPAN_ID + "-1");
  }
}
