package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.context.TraceContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompositeExtractorTest {
  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String SPAN_ID = "b7ad6b7169203331";
  static final String TRACEPARENT = "00-" + TRACE_ID + "-" + SPAN_ID + "-01";
  static final String B3_TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
  static final String B3_SPAN_ID = "e457b5a2e4d86bd1";
  static final String B3 = B3_TRACE_ID + "-" + B3_SPAN_ID + "-1";
  static final String UUID = "6BA7B810-9DAD-41D1-80B4-00C04FD430C8";

  static final CompositeExtractor EXTRACTOR =
      CompositeExtractor.newBuilder().legacyPair("X-Trace-Id", "X-Span-Id").build();

  static Extraction extract(boolean trusted, String... headers) {
    return EXTRACTOR.extract(MapCarrier.of(headers), MapCarrier.GETTER, trusted);
  }

  static Extraction extract(String... headers) {
    return extract(true, headers);
  }

  @Test
  void extract_noHeaders_isStarted() {
    Extraction e = extract();

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
    assertThat(e.parent()).isNull();
    assertThat(e.format()).isNull();
    assertThat(e.rejected()).isNull();
    assertThat(e.rejectReason()).isNull();
    assertThat(e.requestId()).isNull();
    assertThat(e.newServerContext().hasParent()).isFalse();
    assertThat(e.newServerContext().random()).isTrue();
  }

  @Test
  void extract_validTraceparentTrusted_isExtracted() {
    Extraction e =
        extract("traceparent", TRACEPARENT, "tracestate", "rojo=1", "X-Request-Id", "req-1");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(e.format()).isEqualTo("traceparent");
    TraceContext parent = e.parent();
    assertThat(parent).isNotNull();
    assertThat(parent.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(parent.spanIdString()).isEqualTo(SPAN_ID);
    assertThat(parent.tracestate()).isEqualTo("rojo=1");
    assertThat(parent.requestId()).isEqualTo("req-1");
    assertThat(e.requestId()).isEqualTo("req-1");
    assertThat(e.rejectReason()).isNull();
  }

  @Test
  void newServerContext_isChildOfParent_andStable() {
    Extraction e = extract("traceparent", TRACEPARENT, "tracestate", "rojo=1");
    TraceContext server = e.newServerContext();

    assertThat(server.traceIdString()).isEqualTo(TRACE_ID);
    assertThat(server.parentIdString()).isEqualTo(SPAN_ID);
    assertThat(server.spanId()).isNotEqualTo(e.parent().spanId());
    assertThat(server.tracestate()).isEqualTo("rojo=1");
    assertThat(e.newServerContext()).isSameAs(server);
  }

  @Test
  void extract_validTraceparentUntrusted_isRestarted() {
    Extraction e = extract(false, "traceparent", TRACEPARENT, "tracestate", "rojo=1");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.rejectReason()).isEqualTo(RejectReason.UNTRUSTED_SOURCE);
    assertThat(e.rejected()).isEqualTo(TRACEPARENT);
    assertThat(e.format()).isEqualTo("traceparent");
    assertThat(e.parent()).isNull();
    assertThat(e.newServerContext().traceIdString()).isNotEqualTo(TRACE_ID);
    assertThat(e.newServerContext().tracestate()).isNull();
    assertThat(e.newServerContext().hasParent()).isFalse();
  }

  @Test
  void extract_invalidTraceparent_isRestarted() {
    String bad = "00-" + TRACE_ID.toUpperCase(java.util.Locale.ROOT) + "-" + SPAN_ID + "-01";
    Extraction e = extract("traceparent", bad, "tracestate", "rojo=1");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.rejectReason()).isEqualTo(RejectReason.INVALID_TRACEPARENT);
    assertThat(e.rejected()).isEqualTo(bad);
    assertThat(e.newServerContext().tracestate()).isNull(); // ignored with a bad traceparent
  }

  @Test
  void extract_invalidTraceparent_isNotRescuedByValidB3() {
    Extraction e = extract("traceparent", "garbage", "b3", B3);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.format()).isEqualTo("traceparent");
    assertThat(e.newServerContext().traceIdString()).isNotEqualTo(B3_TRACE_ID);
  }

  @Test
  void extract_duplicatedTraceparent_isRestarted() {
    Extraction e = extract("traceparent", TRACEPARENT + "," + TRACEPARENT);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
  }

  @Test
  void extract_blankTraceparent_isTreatedAsAbsent() {
    assertThat(extract("traceparent", " ").outcome()).isEqualTo(ContextOutcome.STARTED);
    assertThat(extract("traceparent", "", "b3", B3).format()).isEqualTo("b3");
  }

  @Test
  void extract_invalidTracestate_isDroppedAndCounted() {
    Extraction e = extract("traceparent", TRACEPARENT, "tracestate", "foo=1,foo=2");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(e.parent().tracestate()).isNull();
    assertThat(e.rejectReason()).isEqualTo(RejectReason.INVALID_TRACESTATE);
    assertThat(e.rejected()).isNull();
  }

  @Test
  void extract_longTracestate_isTruncatedToConfiguredMax() {
    String big = "a=" + "1".repeat(250) + ",b=" + "2".repeat(250) + ",c=" + "3".repeat(250);
    CompositeExtractor wide = CompositeExtractor.newBuilder().tracestateMaxLength(1024).build();

    assertThat(extract("traceparent", TRACEPARENT, "tracestate", big).parent().tracestate())
        .hasSizeLessThanOrEqualTo(512);
    assertThat(
            wide.extract(
                    MapCarrier.of("traceparent", TRACEPARENT, "tracestate", big),
                    MapCarrier.GETTER,
                    true)
                .parent()
                .tracestate())
        .isEqualTo(big);
  }

  @Test
  void extract_traceparentBeatsB3() {
    Extraction e = extract("traceparent", TRACEPARENT, "b3", B3);

    assertThat(e.format()).isEqualTo("traceparent");
    assertThat(e.parent().traceIdString()).isEqualTo(TRACE_ID);
  }

  @Test
  void extract_b3Single_isExtracted() {
    Extraction e = extract("b3", B3_TRACE_ID + "-" + B3_SPAN_ID + "-0-05e3ac9a4f6e3b90");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(e.format()).isEqualTo("b3");
    assertThat(e.parent().spanIdString()).isEqualTo(B3_SPAN_ID);
    assertThat(e.parent().parentIdString()).isEqualTo("05e3ac9a4f6e3b90");
    assertThat(e.newServerContext().sampled()).isFalse();
    assertThat(e.newServerContext().random()).isFalse();
  }

  @Test
  void extract_b3SingleBeatsB3Multi() {
    Extraction e =
        extract("b3", B3, "X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID, "X-B3-Sampled", "1");

    assertThat(e.format()).isEqualTo("b3");
  }

  @Test
  void extract_b3SamplingOnly_fallsThroughToB3Multi() {
    Extraction e = extract("b3", "0", "X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(e.format()).isEqualTo("x-b3");
  }

  @Test
  void extract_b3SamplingOnlyAlone_isStarted() {
    assertThat(extract("b3", "1").outcome()).isEqualTo(ContextOutcome.STARTED);
  }

  @Test
  void extract_invalidB3_isRestarted() {
    Extraction e = extract("b3", "not-b3", "X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.rejectReason()).isEqualTo(RejectReason.INVALID_B3);
    assertThat(e.rejected()).isEqualTo("not-b3");
  }

  @Test
  void extract_b3Multi_isExtracted() {
    Extraction e = extract("X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID, "X-B3-Sampled", "1");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(e.format()).isEqualTo("x-b3");
    assertThat(e.parent().traceIdString()).isEqualTo(TRACE_ID);
  }

  @Test
  void extract_b3MultiSpanIdAlone_isRestartedWithFields() {
    Extraction e = extract("X-B3-SpanId", SPAN_ID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.rejectReason()).isEqualTo(RejectReason.INVALID_B3_MULTI);
    assertThat(e.rejected()).isEqualTo("X-B3-SpanId=" + SPAN_ID);
  }

  @Test
  void extract_b3MultiUntrusted_isRestartedWithFields() {
    Extraction e = extract(false, "X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID);

    assertThat(e.rejectReason()).isEqualTo(RejectReason.UNTRUSTED_SOURCE);
    assertThat(e.rejected()).contains("X-B3-TraceId=" + TRACE_ID, "X-B3-SpanId=" + SPAN_ID);
  }

  @Test
  void extract_b3SampledAlone_isStarted() {
    assertThat(extract("X-B3-Sampled", "1").outcome()).isEqualTo(ContextOutcome.STARTED);
  }

  @Test
  void extract_b3Disabled_ignoresB3() {
    CompositeExtractor noB3 = CompositeExtractor.newBuilder().b3(false).build();
    Extraction e = noB3.extract(MapCarrier.of("b3", "garbage"), MapCarrier.GETTER, true);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
  }

  @Test
  void extract_b3BeatsLegacy() {
    Extraction e = extract("b3", B3, "X-Trace-Id", TRACE_ID, "X-Span-Id", SPAN_ID);

    assertThat(e.format()).isEqualTo("b3");
  }

  @Test
  void extract_legacyPair_isExtractedCaseInsensitively() {
    Extraction e =
        extract(
            "x-trace-id",
            TRACE_ID.toUpperCase(java.util.Locale.ROOT),
            "X-SPAN-ID",
            SPAN_ID.toUpperCase(java.util.Locale.ROOT));

    assertThat(e.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(e.format()).isEqualTo("legacy");
    assertThat(e.parent().traceIdString()).isEqualTo(TRACE_ID);
  }

  @Test
  void extract_legacyTraceIdAlone_isRestarted() {
    Extraction e = extract("X-Trace-Id", TRACE_ID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.rejectReason()).isEqualTo(RejectReason.INVALID_LEGACY);
    assertThat(e.rejected()).isEqualTo("X-Trace-Id=" + TRACE_ID);
  }

  @Test
  void extract_legacyNotConfigured_isIgnored() {
    CompositeExtractor plain = CompositeExtractor.newBuilder().build();
    Extraction e =
        plain.extract(
            MapCarrier.of("X-Trace-Id", TRACE_ID, "X-Span-Id", SPAN_ID), MapCarrier.GETTER, true);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
  }

  @Test
  void extract_uuidRequestIdAlone_isStartedWithSeededTraceId() {
    Extraction e = extract("X-Request-Id", UUID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
    assertThat(e.format()).isEqualTo("x-request-id");
    assertThat(e.requestId()).isEqualTo(UUID);
    assertThat(e.newServerContext().traceIdString()).isEqualTo("6ba7b8109dad41d180b400c04fd430c8");
    assertThat(e.newServerContext().requestId()).isEqualTo(UUID);
    assertThat(e.newServerContext().random()).isFalse();
  }

  @Test
  void extract_uuidRequestIdUntrusted_isKeptButDoesNotSeed() {
    Extraction e = extract(false, "X-Request-Id", UUID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
    assertThat(e.format()).isNull();
    assertThat(e.requestId()).isEqualTo(UUID);
    assertThat(e.newServerContext().traceIdString())
        .isNotEqualTo("6ba7b8109dad41d180b400c04fd430c8");
  }

  @Test
  void extract_invalidTraceparentWithUuidRequestId_restartsSeededTrace() {
    Extraction e = extract("traceparent", "bad", "X-Request-Id", UUID);

    assertThat(e.outcome()).isEqualTo(ContextOutcome.RESTARTED);
    assertThat(e.newServerContext().traceIdString()).isEqualTo("6ba7b8109dad41d180b400c04fd430c8");
  }

  @Test
  void extract_nonUuidRequestId_isKeptNotSeeded() {
    Extraction e = extract("X-Request-Id", "req-42");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
    assertThat(e.format()).isNull();
    assertThat(e.newServerContext().requestId()).isEqualTo("req-42");
  }

  @Test
  void extract_invalidRequestId_isDroppedAndCounted() {
    Extraction e = extract("X-Request-Id", "a\r\nb");

    assertThat(e.outcome()).isEqualTo(ContextOutcome.STARTED);
    assertThat(e.requestId()).isNull();
    assertThat(e.rejectReason()).isEqualTo(RejectReason.INVALID_REQUEST_ID);
    assertThat(e.newServerContext().requestId()).isNull();
  }

  @Test
  void extract_requestIdAlongsideTraceparent_isCarried() {
    Extraction e = extract("traceparent", TRACEPARENT, "X-Request-Id", UUID);

    assertThat(e.requestId()).isEqualTo(UUID);
    assertThat(e.newServerContext().traceIdString()).isEqualTo(TRACE_ID); // context wins
  }

  @Test
  void extract_customRequestIdHeader_isRead() {
    CompositeExtractor custom =
        CompositeExtractor.newBuilder().requestIdHeader("X-Correlation-Id").build();
    Extraction e =
        custom.extract(MapCarrier.of("X-Correlation-Id", "c-1"), MapCarrier.GETTER, true);

    assertThat(e.requestId()).isEqualTo("c-1");
  }

  @Test
  void rejected_isSanitizedAndBounded() {
    String evil = "00-\r\nX-Evil: 1\u0000\u2028" + "x".repeat(1000);
    Extraction e = extract("traceparent", evil);

    assertThat(e.rejected()).doesNotContain("\r", "\n", "\u0000", "\u2028");
    assertThat(e.rejected()).startsWith("00-??X-Evil: 1??x").endsWith("...");
    assertThat(e.rejected()).hasSize(256 + 3);
  }

  @Test
  void outcome_tagValues_matchDesign() {
    assertThat(ContextOutcome.EXTRACTED.tagValue()).isEqualTo("extracted");
    assertThat(ContextOutcome.STARTED.tagValue()).isEqualTo("started");
    assertThat(ContextOutcome.RESTARTED.tagValue()).isEqualTo("restarted");
  }

  @Test
  void builder_tracestateMaxLengthBelow512_throws() {
    assertThatThrownBy(() -> CompositeExtractor.newBuilder().tracestateMaxLength(511))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tracestate.maxLength: 511");
  }

  @Test
  void builder_requestIdMaxLengthBelowUuid_throws() {
    assertThatThrownBy(() -> CompositeExtractor.newBuilder().requestIdMaxLength(35))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("requestId.maxLength: 35");
  }

  @Test
  void builder_badRequestIdHeader_throws() {
    assertThatThrownBy(() -> CompositeExtractor.newBuilder().requestIdHeader("X Request"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("requestId.header");
  }

  @Test
  void extract_unmodifiedCarrier() {
    Map<String, String> carrier = MapCarrier.of("traceparent", "bad");
    EXTRACTOR.extract(carrier, MapCarrier.GETTER, true);

    assertThat(carrier).containsExactly(Map.entry("traceparent", "bad"));
  }
}
