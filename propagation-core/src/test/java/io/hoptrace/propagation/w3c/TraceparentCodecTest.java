package io.hoptrace.propagation.w3c;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** W3C Trace Context §3.2 and the W3C test suite (test/test.py), one malformed input per test. */
class TraceparentCodecTest {
  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String PARENT_ID = "b7ad6b7169203331";
  static final String VALID = "00-" + TRACE_ID + "-" + PARENT_ID + "-01";

  @Test
  void parse_specExample_readsAllFields() {
    TraceContext c = TraceparentCodec.parse(VALID);

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(c.spanIdString()).isEqualTo(PARENT_ID);
    assertThat(c.parentId()).isZero();
    assertThat(c.sampled()).isTrue();
    assertThat(c.random()).isFalse();
  }

  @Test
  void parse_notSampled_clearsSampled() {
    TraceContext c = TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-00");

    assertThat(c).isNotNull();
    assertThat(c.sampled()).isFalse();
  }

  @Test
  void parse_randomFlag_isKept() {
    TraceContext c = TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-03");

    assertThat(c).isNotNull();
    assertThat(c.flags()).isEqualTo(TraceContext.FLAG_SAMPLED | TraceContext.FLAG_RANDOM);
  }

  @Test
  void parse_unknownFlags_areZeroed() {
    TraceContext c = TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-ff");

    assertThat(c).isNotNull();
    assertThat(c.flags()).isEqualTo(TraceparentCodec.KNOWN_FLAGS);
  }

  @Test
  void parse_leadingAndTrailingOws_isValid() {
    assertThat(TraceparentCodec.parse(" \t" + VALID + "\t ")).isNotNull();
  }

  @Test
  void parse_range_readsOnlyTheRange() {
    String padded = "xx" + VALID + "yy";

    assertThat(TraceparentCodec.parse(padded, 2, 2 + 55)).isNotNull();
  }

  @Test
  void parse_uppercaseHex_isInvalid() {
    assertThat(
            TraceparentCodec.parse(
                "00-" + TRACE_ID.toUpperCase(Locale.ROOT) + "-" + PARENT_ID + "-01"))
        .isNull();
  }

  @Test
  void parse_uppercaseParentId_isInvalid() {
    assertThat(
            TraceparentCodec.parse(
                "00-" + TRACE_ID + "-" + PARENT_ID.toUpperCase(Locale.ROOT) + "-01"))
        .isNull();
  }

  @Test
  void parse_uppercaseVersion_isInvalid() {
    assertThat(TraceparentCodec.parse("0A-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_uppercaseFlags_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-0A")).isNull();
  }

  @Test
  void parse_versionFf_isInvalid() {
    assertThat(TraceparentCodec.parse("ff-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_version00WithTrailingData_isInvalid() {
    assertThat(TraceparentCodec.parse(VALID + "-what-the-future-will-be-like")).isNull();
  }

  @Test
  void parse_version00WithTrailingDash_isInvalid() {
    assertThat(TraceparentCodec.parse(VALID + "-")).isNull();
  }

  @Test
  void parse_version00WithTrailingDot_isInvalid() {
    assertThat(TraceparentCodec.parse(VALID + ".")).isNull();
  }

  @Test
  void parse_futureVersionWithTrailingData_isValid() {
    TraceContext c =
        TraceparentCodec.parse("cc-" + TRACE_ID + "-" + PARENT_ID + "-01-what-the-future-holds");

    assertThat(c).isNotNull();
    assertThat(c.traceIdString()).isEqualTo(TRACE_ID);
  }

  @Test
  void parse_futureVersionExactLength_isValid() {
    assertThat(TraceparentCodec.parse("cc-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNotNull();
  }

  @Test
  void parse_futureVersionTrailingDataWithoutDash_isInvalid() {
    assertThat(TraceparentCodec.parse("cc-" + TRACE_ID + "-" + PARENT_ID + "-01.what")).isNull();
  }

  @Test
  void parse_futureVersionFlagsTooLong_isInvalid() {
    assertThat(TraceparentCodec.parse("cc-" + TRACE_ID + "-" + PARENT_ID + "-011")).isNull();
  }

  @Test
  void parse_versionIllegalChars_isInvalid() {
    assertThat(TraceparentCodec.parse(".0-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
    assertThat(TraceparentCodec.parse("0.-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_versionTooLong_isInvalid() {
    assertThat(TraceparentCodec.parse("000-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_versionTooShort_isInvalid() {
    assertThat(TraceparentCodec.parse("0-" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_allZeroTraceId_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + "0".repeat(32) + "-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_traceIdWithZeroHighHalf_isValid() {
    TraceContext c =
        TraceparentCodec.parse("00-" + "0".repeat(16) + "8448eb211c80319c-" + PARENT_ID + "-01");

    assertThat(c).isNotNull();
    assertThat(c.traceIdHigh()).isZero();
  }

  @Test
  void parse_allZeroParentId_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + "0".repeat(16) + "-01")).isNull();
  }

  @Test
  void parse_traceIdIllegalChars_isInvalid() {
    assertThat(TraceparentCodec.parse("00-." + TRACE_ID.substring(1) + "-" + PARENT_ID + "-01"))
        .isNull();
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID.substring(1) + ".-" + PARENT_ID + "-01"))
        .isNull();
  }

  @Test
  void parse_traceIdTooLong_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "0-" + PARENT_ID + "-01")).isNull();
  }

  @Test
  void parse_traceIdTooShort_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID.substring(1) + "-" + PARENT_ID + "-01"))
        .isNull();
  }

  @Test
  void parse_parentIdIllegalChars_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-." + PARENT_ID.substring(1) + "-01"))
        .isNull();
  }

  @Test
  void parse_parentIdTooLong_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "0-01")).isNull();
  }

  @Test
  void parse_parentIdTooShort_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID.substring(1) + "-01"))
        .isNull();
  }

  @Test
  void parse_flagsIllegalChars_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-.0")).isNull();
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-0.")).isNull();
  }

  @Test
  void parse_flagsTooLong_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-001")).isNull();
  }

  @Test
  void parse_flagsTooShort_isInvalid() {
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-0")).isNull();
  }

  @Test
  void parse_wrongDelimiter_isInvalid() {
    assertThat(TraceparentCodec.parse("00_" + TRACE_ID + "-" + PARENT_ID + "-01")).isNull();
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "_" + PARENT_ID + "-01")).isNull();
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "_01")).isNull();
  }

  @Test
  void parse_duplicatedHeaderJoinedWithComma_isInvalid() {
    // Two traceparent field lines reach us joined with ",": W3C says that is invalid.
    assertThat(TraceparentCodec.parse(VALID + "," + VALID)).isNull();
  }

  @Test
  void parse_empty_isInvalid() {
    assertThat(TraceparentCodec.parse("")).isNull();
  }

  @Test
  void parse_longerThanMaxLength_isInvalid() {
    String huge = "cc-" + TRACE_ID + "-" + PARENT_ID + "-01-" + "a".repeat(1000);

    assertThat(TraceparentCodec.parse(huge)).isNull();
  }

  @Test
  void parse_nonAsciiDigit_isInvalid() {
    // Arabic-Indic digit zero: Character.digit would accept it; W3C does not.
    assertThat(TraceparentCodec.parse("00-" + TRACE_ID + "-" + PARENT_ID + "-0\u0660")).isNull();
  }

  @Test
  void validate_returnsStartAfterOws_andAccessorsReadFields() {
    String value = "  " + VALID;
    int at = TraceparentCodec.validate(value, 0, value.length());

    assertThat(at).isEqualTo(2);
    assertThat(TraceparentCodec.traceIdHigh(value, at)).isEqualTo(0x0af7651916cd43ddL);
    assertThat(TraceparentCodec.traceIdLow(value, at)).isEqualTo(0x8448eb211c80319cL);
    assertThat(TraceparentCodec.parentId(value, at)).isEqualTo(0xb7ad6b7169203331L);
    assertThat(TraceparentCodec.flags(value, at)).isEqualTo(1);
  }

  @Test
  void validate_outOfBoundsRange_isInvalid() {
    assertThat(TraceparentCodec.validate(VALID, 0, VALID.length() + 1)).isEqualTo(-1);
    assertThat(TraceparentCodec.validate(VALID, -1, VALID.length())).isEqualTo(-1);
  }

  @Test
  void toString_writesVersion00_andRoundTrips() {
    TraceContext c = TraceparentCodec.parse(VALID);

    assertThat(TraceparentCodec.toString(c)).isEqualTo(VALID);
  }

  @Test
  void toString_futureVersion_writesVersion00WithoutTrailingData() {
    TraceContext c = TraceparentCodec.parse("cc-" + TRACE_ID + "-" + PARENT_ID + "-01-extra");

    assertThat(TraceparentCodec.toString(c)).isEqualTo(VALID);
  }

  @Test
  void traceresponse_namesTheServerSpan() {
    TraceContext server = TraceparentCodec.parse(VALID).newChild();

    assertThat(TraceresponseCodec.toString(server))
        .isEqualTo("00-" + TRACE_ID + "-" + server.spanIdString() + "-01");
    assertThat(TraceresponseCodec.NAME).isEqualTo("traceresponse");
  }
}
