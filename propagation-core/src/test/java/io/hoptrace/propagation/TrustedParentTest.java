package io.hoptrace.propagation;

import static io.hoptrace.propagation.CompositeExtractorTest.B3;
import static io.hoptrace.propagation.CompositeExtractorTest.B3_SPAN_ID;
import static io.hoptrace.propagation.CompositeExtractorTest.B3_TRACE_ID;
import static io.hoptrace.propagation.CompositeExtractorTest.EXTRACTOR;
import static io.hoptrace.propagation.CompositeExtractorTest.SPAN_ID;
import static io.hoptrace.propagation.CompositeExtractorTest.TRACEPARENT;
import static io.hoptrace.propagation.CompositeExtractorTest.TRACE_ID;
import static io.hoptrace.propagation.CompositeExtractorTest.UUID;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link CompositeExtractor#trustedParent} and {@link CompositeExtractor#requestId}, the outbound
 * hop's extraction without an {@link Extraction}: the same parent and request id as {@code
 * extract(…, true)} for every shape of input, and nothing allocated when no context came.
 */
class TrustedParentTest {
  static final List<String[]> SHAPES =
      List.of(
          new String[] {},
          new String[] {"X-Request-Id", "req-1"},
          new String[] {"X-Request-Id", UUID},
          new String[] {"X-Request-Id", "bad value\u0001"},
          new String[] {"traceparent", TRACEPARENT},
          new String[] {"traceparent", TRACEPARENT, "tracestate", "rojo=1", "X-Request-Id", "r"},
          new String[] {"traceparent", TRACEPARENT, "tracestate", "=bad"},
          new String[] {"traceparent", "garbage", "b3", B3},
          new String[] {"traceparent", " ", "b3", B3, "X-Request-Id", UUID},
          new String[] {"b3", B3},
          new String[] {"b3", "0", "X-B3-TraceId", TRACE_ID, "X-B3-SpanId", SPAN_ID},
          new String[] {"b3", "nonsense"},
          new String[] {
            "X-B3-TraceId", B3_TRACE_ID, "X-B3-SpanId", B3_SPAN_ID, "X-B3-Sampled", "0"
          },
          new String[] {"X-B3-TraceId", "zz", "X-B3-SpanId", B3_SPAN_ID},
          new String[] {"X-Trace-Id", TRACE_ID, "X-Span-Id", SPAN_ID, "X-Request-Id", "q"},
          new String[] {"X-Trace-Id", "nope", "X-Span-Id", SPAN_ID});

  @Test
  void trustedParentAndRequestId_areWhatATrustedExtractGives_forEveryShape() {
    for (String[] shape : SHAPES) {
      Map<String, String> carrier = MapCarrier.of(shape);
      Extraction e = EXTRACTOR.extract(carrier, MapCarrier.GETTER, true);
      String requestId = EXTRACTOR.requestId(carrier, MapCarrier.GETTER);
      TraceContext parent = EXTRACTOR.trustedParent(carrier, MapCarrier.GETTER, requestId);

      assertThat(requestId).as(String.join(" ", shape)).isEqualTo(e.requestId());
      if (e.parent() == null) {
        assertThat(parent).as(String.join(" ", shape)).isNull();
      } else {
        assertThat(parent)
            .as(String.join(" ", shape))
            .usingRecursiveComparison()
            .isEqualTo(e.parent());
      }
    }
  }

  @Test
  void someShapes_doGiveAParent() { // the comparison above is not all nulls
    long withParent =
        SHAPES.stream()
            .map(MapCarrier::of)
            .filter(c -> EXTRACTOR.trustedParent(c, MapCarrier.GETTER, null) != null)
            .count();
    assertThat(withParent).isEqualTo(8);
  }

  @Test
  void noContextHeaders_allocatesNothing() {
    FailurePathAllocationTest.assumeMeasurable();
    Map<String, String> carrier = MapCarrier.of("Accept", "*/*", "X-Request-Id", "req-1");
    long bytes =
        FailurePathAllocationTest.bytesFor(
            () -> {
              TraceContext unused =
                  EXTRACTOR.trustedParent(
                      carrier, MapCarrier.GETTER, EXTRACTOR.requestId(carrier, MapCarrier.GETTER));
            });
    assertThat(bytes).isLessThan(FailurePathAllocationTest.SLACK);
  }
}
