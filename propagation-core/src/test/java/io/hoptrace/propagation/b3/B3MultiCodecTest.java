package io.hoptrace.propagation.b3;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** openzipkin/b3-propagation, multiple headers; one malformed input per test. */
class B3MultiCodecTest {
  static final String TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
  static final String SPAN_ID = "e457b5a2e4d86bd1";
  static final String PARENT_ID = "05e3ac9a4f6e3b90";

  @Test
  void parse_allFields_readsThem() {
    TraceContext c = B3MultiCodec.parse(TRACE_ID, SPAN_ID, PARENT_ID, "0", null);

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(c.parentIdString()).isEqualTo(PARENT_ID);
    assertThat(c.sampled()).isFalse();
  }

  @Test
  void parse_sampledTrueFalse_areAccepted() {
    assertThat(B3MultiCodec.parse(TRACE_ID, SPAN_ID, null, "true", null).sampled()).isTrue();
    assertThat(B3MultiCodec.parse(TRACE_ID, SPAN_ID, null, "False", null).sampled()).isFalse();
  }

  @Test
  void parse_debugFlag_isSampled() {
    assertThat(B3MultiCodec.parse(TRACE_ID, SPAN_ID, null, "0", "1").sampled()).isTrue();
  }

  @Test
  void parse_64BitTraceId_isLeftPadded() {
    TraceContext c = B3MultiCodec.parse("64fe8b2a57d3eff7", SPAN_ID, null, null, null);

    assertThat(c).isNotNull();
    assertThat(c.traceIdHigh()).isZero();
  }

  @Test
  void parse_missingSpanId_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID, null, null, "1", null)).isNull();
  }

  @Test
  void parse_missingTraceId_isInvalid() {
    assertThat(B3MultiCodec.parse(null, SPAN_ID, null, "1", null)).isNull();
  }

  @Test
  void parse_uppercaseHex_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID.toUpperCase(Locale.ROOT), SPAN_ID, null, null, null))
        .isNull();
  }

  @Test
  void parse_badSampled_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID, SPAN_ID, null, "yes", null)).isNull();
  }

  @Test
  void parse_badParentSpanId_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID, SPAN_ID, "xyz", null, null)).isNull();
  }

  @Test
  void parse_traceIdWrongLength_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID.substring(2), SPAN_ID, null, null, null)).isNull();
  }

  @Test
  void parse_allZeroSpanId_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID, "0".repeat(16), null, null, null)).isNull();
  }

  @Test
  void parse_tooLongField_isInvalid() {
    assertThat(B3MultiCodec.parse(TRACE_ID, SPAN_ID, null, " ".repeat(100) + "1", null)).isNull();
  }
}
