package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.b3.B3MultiCodec;
import io.hoptrace.propagation.b3.B3SingleCodec;
import io.hoptrace.propagation.legacy.LegacyPairCodec;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.propagation.w3c.TraceparentCodec;
import io.hoptrace.propagation.w3c.TracestateCodec;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.StringLength;

/**
 * Wire input never throws (OTel's fuzz test idea): arbitrary strings (any UTF-16 char, control
 * chars, very long), strings from each format's own alphabet (to reach deep parser states), and
 * single-char mutations of valid values. Whatever a codec accepts must write back to a value it
 * accepts again.
 */
class CodecFuzzTest {
  static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  static final CompositeExtractor EXTRACTOR =
      CompositeExtractor.newBuilder().legacyPair("X-Trace-Id", "X-Span-Id").build();

  @Property
  void traceparent_arbitraryString_neverThrows(@ForAll @StringLength(max = 700) String s) {
    TraceContext c = TraceparentCodec.parse(s);
    if (c != null) assertThat(TraceparentCodec.parse(TraceparentCodec.toString(c))).isEqualTo(c);
  }

  @Property
  void traceparent_ownAlphabet_neverThrows(
      @ForAll @Chars({'0', '1', 'a', 'f', 'F', '-', ' ', '\t', '.', 'c'}) @StringLength(max = 80)
          String s) {
    TraceparentCodec.parse(s);
  }

  @Property
  void traceparent_oneCharMutation_neverThrows(
      @ForAll("indexInTraceparent") int index, @ForAll char c) {
    String mutated = TRACEPARENT.substring(0, index) + c + TRACEPARENT.substring(index + 1);
    TraceContext parsed = TraceparentCodec.parse(mutated);
    if (parsed != null) assertThat(TraceparentCodec.toString(parsed)).hasSize(55);
  }

  @Provide
  Arbitrary<Integer> indexInTraceparent() {
    return Arbitraries.integers().between(0, TRACEPARENT.length() - 1);
  }

  @Property
  void tracestate_arbitraryString_neverThrows(@ForAll @StringLength(max = 2000) String s) {
    String parsed = TracestateCodec.parse(s);
    if (parsed != null) assertThat(TracestateCodec.parse(parsed)).isEqualTo(parsed);
  }

  @Property
  void tracestate_ownAlphabet_neverThrows(
      @ForAll
          @Chars({'a', 'b', '1', '=', ',', '@', ' ', '\t', '*', '/', '-', '_', 'Z', '~'})
          @StringLength(max = 600)
          String s) {
    String parsed = TracestateCodec.parse(s);
    if (parsed != null) {
      assertThat(parsed.length()).isLessThanOrEqualTo(TracestateCodec.DEFAULT_MAX_LENGTH);
      assertThat(TracestateCodec.parse(parsed)).isEqualTo(parsed);
    }
  }

  @Property(tries = 50)
  void tracestate_veryLong_neverThrows(@ForAll @StringLength(min = 5000, max = 20000) String s) {
    TracestateCodec.parse(s);
  }

  @Property
  void b3Single_arbitraryString_neverThrows(@ForAll @StringLength(max = 300) String s) {
    TraceContext c = B3SingleCodec.parse(s);
    if (c != null) assertThat(B3SingleCodec.parse(B3SingleCodec.toString(c))).isEqualTo(c);
    B3SingleCodec.isSamplingOnly(s);
  }

  @Property
  void b3Single_ownAlphabet_neverThrows(
      @ForAll @Chars({'0', '1', 'a', 'd', 'A', '-', ' '}) @StringLength(max = 80) String s) {
    B3SingleCodec.parse(s);
  }

  @Property
  void b3Multi_arbitraryStrings_neverThrow(
      @ForAll String traceId,
      @ForAll String spanId,
      @ForAll String parent,
      @ForAll String sampled,
      @ForAll String flags) {
    B3MultiCodec.parse(traceId, spanId, parent, sampled, flags);
  }

  @Property
  void legacy_arbitraryStrings_neverThrow(@ForAll String traceId, @ForAll String spanId) {
    LegacyPairCodec.parse(traceId, spanId);
  }

  @Property
  void requestId_arbitraryString_neverThrows(@ForAll @StringLength(max = 300) String s) {
    String id = RequestIdCodec.parse(s, RequestIdCodec.DEFAULT_MAX_LENGTH);
    if (id != null && RequestIdCodec.isUuid(id)) {
      RequestIdCodec.uuidToTraceIdHigh(id);
      RequestIdCodec.uuidToTraceIdLow(id);
    }
  }

  @Property
  void compositeExtractor_arbitraryHeaderMaps_neverThrow(
      @ForAll("headerMaps") Map<String, String> headers, @ForAll boolean trusted) {
    Map<String, String> carrier = MapCarrier.of();
    carrier.putAll(headers);
    Extraction e = EXTRACTOR.extract(carrier, MapCarrier.GETTER, trusted);

    assertThat(e.newServerContext()).isNotNull();
    if (e.outcome() == ContextOutcome.RESTARTED) {
      assertThat(e.rejected()).isNotNull().hasSizeLessThanOrEqualTo(259);
      assertThat(e.rejected().chars()).allMatch(ch -> ch >= ' ' && ch <= '~');
    } else {
      assertThat(e.rejected()).isNull();
    }
    if (e.outcome() == ContextOutcome.EXTRACTED) assertThat(trusted).isTrue();
  }

  @Provide
  Arbitrary<Map<String, String>> headerMaps() {
    Arbitrary<String> names =
        Arbitraries.of(
            "traceparent",
            "tracestate",
            "b3",
            "X-B3-TraceId",
            "X-B3-SpanId",
            "X-B3-ParentSpanId",
            "X-B3-Sampled",
            "X-B3-Flags",
            "X-Trace-Id",
            "X-Span-Id",
            "X-Request-Id",
            "Accept");
    Arbitrary<String> values =
        Arbitraries.oneOf(
            Arbitraries.strings().ofMaxLength(400),
            Arbitraries.strings().withChars("0123456789abcdefABCDEF- ,=").ofMaxLength(70),
            Arbitraries.of(
                TRACEPARENT,
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
                "80f198ee56343ba864fe8b2a57d3eff7",
                "e457b5a2e4d86bd1",
                "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
                "rojo=1,congo=2",
                "1",
                "d",
                ""));
    return Arbitraries.maps(names, values).ofMaxSize(12);
  }
}
