package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InjectorTest {
  static final TraceContext CONTEXT =
      TraceContext.newBuilder()
          .traceId(0x0af7651916cd43ddL, 0x8448eb211c80319cL)
          .spanId(0xb7ad6b7169203331L)
          .parentId(0x05e3ac9a4f6e3b90L)
          .flags(TraceContext.FLAG_SAMPLED)
          .tracestate("rojo=1")
          .requestId("req-1")
          .build();

  static Map<String, String> staleCarrier() {
    return MapCarrier.of(
        "traceparent", "00-BAD",
        "tracestate", "evil=\r\n",
        "b3", "garbage",
        "X-B3-TraceId", "x",
        "X-B3-SpanId", "y",
        "X-B3-ParentSpanId", "z",
        "X-B3-Sampled", "maybe",
        "X-B3-Flags", "7",
        "X-Trace-Id", "stale",
        "X-Span-Id", "stale",
        "X-Request-Id", "bad\r\nid",
        "Accept", "*/*");
  }

  @Test
  void inject_returnsTheTraceparentItWrote() {
    Map<String, String> carrier = MapCarrier.of();
    String written =
        Injector.newBuilder()
            .b3(Injector.B3Style.SINGLE)
            .build()
            .inject(CONTEXT, carrier, MapCarrier.SETTER);

    assertThat(written)
        .isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .isEqualTo(carrier.get("traceparent"));
  }

  @Test
  void inject_defaults_writesW3cAndRequestIdOnly() {
    Map<String, String> carrier = MapCarrier.of();
    Injector.newBuilder().build().inject(CONTEXT, carrier, MapCarrier.SETTER);

    assertThat(carrier)
        .containsOnly(
            Map.entry("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            Map.entry("tracestate", "rojo=1"),
            Map.entry("X-Request-Id", "req-1"));
  }

  @Test
  void inject_removesEveryStaleTraceHeader_andKeepsOthers() {
    Map<String, String> carrier = staleCarrier();
    TraceContext bare = TraceContext.newRoot(null);
    Injector.newBuilder()
        .legacyPair("X-Trace-Id", "X-Span-Id")
        .build()
        .inject(bare, carrier, MapCarrier.SETTER);

    // Only ours and the app's own headers remain; nothing stale or invalid.
    assertThat(carrier.keySet())
        .containsExactlyInAnyOrder("traceparent", "Accept", "X-Trace-Id", "X-Span-Id");
    assertThat(carrier.get("traceparent"))
        .isEqualTo(io.hoptrace.propagation.w3c.TraceparentCodec.toString(bare));
    assertThat(carrier.get("X-Trace-Id")).isEqualTo(bare.traceIdString());
  }

  @Test
  void inject_b3Single_writesB3() {
    Map<String, String> carrier = MapCarrier.of();
    Injector.newBuilder()
        .b3(Injector.B3Style.SINGLE)
        .build()
        .inject(CONTEXT, carrier, MapCarrier.SETTER);

    assertThat(carrier.get("b3"))
        .isEqualTo("0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1-05e3ac9a4f6e3b90");
    assertThat(carrier).doesNotContainKey("X-B3-TraceId");
  }

  @Test
  void inject_b3Multi_writesXB3() {
    Map<String, String> carrier = MapCarrier.of();
    Injector.newBuilder()
        .b3(Injector.B3Style.MULTI)
        .build()
        .inject(CONTEXT, carrier, MapCarrier.SETTER);

    assertThat(carrier)
        .containsEntry("X-B3-TraceId", "0af7651916cd43dd8448eb211c80319c")
        .containsEntry("X-B3-SpanId", "b7ad6b7169203331")
        .containsEntry("X-B3-ParentSpanId", "05e3ac9a4f6e3b90")
        .containsEntry("X-B3-Sampled", "1")
        .doesNotContainKey("b3");
  }

  @Test
  void inject_customRequestIdHeader_isUsed() {
    Map<String, String> carrier = MapCarrier.of("X-Request-Id", "other");
    Injector.newBuilder()
        .requestIdHeader("X-Correlation-Id")
        .build()
        .inject(CONTEXT, carrier, MapCarrier.SETTER);

    assertThat(carrier).containsEntry("X-Correlation-Id", "req-1");
  }

  @Test
  void inject_thenExtract_continuesFromTheInjectedSpan() {
    CompositeExtractor extractor =
        CompositeExtractor.newBuilder().legacyPair("X-Trace-Id", "X-Span-Id").build();
    Map<String, String> carrier = staleCarrier();
    Extraction incoming = extractor.extract(carrier, MapCarrier.GETTER, true);
    assertThat(incoming.outcome()).isEqualTo(ContextOutcome.RESTARTED);

    Injector.newBuilder()
        .b3(Injector.B3Style.MULTI)
        .legacyPair("X-Trace-Id", "X-Span-Id")
        .build()
        .inject(incoming.newServerContext(), carrier, MapCarrier.SETTER);
    Extraction app = extractor.extract(carrier, MapCarrier.GETTER, true);

    assertThat(app.outcome()).isEqualTo(ContextOutcome.EXTRACTED);
    assertThat(app.parent()).isEqualTo(incoming.newServerContext());
    assertThat(app.rejectReason()).isNull();
  }

  @Test
  void managedHeaders_includeConfiguredNames() {
    Injector injector =
        Injector.newBuilder()
            .legacyPair("X-Trace-Id", "X-Span-Id")
            .requestIdHeader("X-Correlation-Id")
            .build();

    assertThat(injector.managedHeaders())
        .containsAll(Injector.MANAGED_HEADERS)
        .contains("X-Trace-Id", "X-Span-Id", "X-Correlation-Id");
    assertThat(Injector.MANAGED_HEADERS)
        .containsExactly(
            "traceparent",
            "tracestate",
            "b3",
            "X-B3-TraceId",
            "X-B3-SpanId",
            "X-B3-ParentSpanId",
            "X-B3-Sampled",
            "X-B3-Flags");
  }
}
