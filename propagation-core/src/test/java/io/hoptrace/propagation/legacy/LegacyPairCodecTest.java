package io.hoptrace.propagation.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.context.TraceContext;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class LegacyPairCodecTest {
  static final String TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
  static final String SPAN_ID = "e457b5a2e4d86bd1";

  @Test
  void parse_lowercase_isValid() {
    TraceContext c = LegacyPairCodec.parse(TRACE_ID, SPAN_ID);

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(c.spanIdString()).isEqualTo(SPAN_ID);
  }

  @Test
  void parse_uppercase_isValidAndNormalised() {
    TraceContext c =
        LegacyPairCodec.parse(TRACE_ID.toUpperCase(Locale.ROOT), SPAN_ID.toUpperCase(Locale.ROOT));

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(c.spanIdString()).isEqualTo(SPAN_ID);
  }

  @Test
  void parse_64BitTraceId_isLeftPadded() {
    TraceContext c = LegacyPairCodec.parse("64FE8B2A57D3EFF7", SPAN_ID);

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo("000000000000000064fe8b2a57d3eff7");
  }

  @Test
  void parse_traceIdAlone_isInvalid() {
    assertThat(LegacyPairCodec.parse(TRACE_ID, null)).isNull();
  }

  @Test
  void parse_spanIdAlone_isInvalid() {
    assertThat(LegacyPairCodec.parse(null, SPAN_ID)).isNull();
  }

  @Test
  void parse_nonHex_isInvalid() {
    assertThat(LegacyPairCodec.parse(TRACE_ID.replace('8', 'g'), SPAN_ID)).isNull();
  }

  @Test
  void parse_wrongLength_isInvalid() {
    assertThat(LegacyPairCodec.parse(TRACE_ID.substring(4), SPAN_ID)).isNull();
    assertThat(LegacyPairCodec.parse(TRACE_ID, SPAN_ID + "0")).isNull();
  }

  @Test
  void parse_allZero_isInvalid() {
    assertThat(LegacyPairCodec.parse("0".repeat(32), SPAN_ID)).isNull();
    assertThat(LegacyPairCodec.parse(TRACE_ID, "0".repeat(16))).isNull();
  }

  @Test
  void of_badHeaderName_throwsNamingTheKey() {
    assertThatThrownBy(() -> LegacyPairCodec.of("X Trace", "X-Span-Id"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("legacy.traceIdHeader");
    assertThatThrownBy(() -> LegacyPairCodec.of("X-Id", "x-id"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
