package io.hoptrace.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.util.Map;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * What every propagator (a codec and the headers it lives in) promises, after brave's {@code
 * PropagationTest}: a valid context survives inject then extract, and absent headers extract to
 * null. Each format extends this with its own inject and extract.
 */
public abstract class PropagationContractTest {
  /** Writes {@code context} into {@code carrier} as this format does. */
  protected abstract void inject(TraceContext context, Map<String, String> carrier);

  /** Reads this format from {@code carrier}; null when absent or invalid. */
  protected abstract @Nullable TraceContext extract(Map<String, String> carrier);

  /** Whether the format carries the parent span id (B3 does, traceparent does not). */
  protected boolean carriesParentId() {
    return false;
  }

  /** Whether the format carries the sampled flag (the legacy pair does not). */
  protected boolean carriesSampled() {
    return true;
  }

  @Test
  void extract_absentHeaders_isNull() {
    assertThat(extract(MapCarrier.of())).isNull();
  }

  @Test
  void extract_unrelatedHeaders_isNull() {
    assertThat(extract(MapCarrier.of("Accept", "*/*", "Host", "example.com"))).isNull();
  }

  @Test
  void roundTrip_sampledRoot() {
    assertRoundTrips(TraceContext.newRoot(null));
  }

  @Test
  void roundTrip_notSampledChild() {
    TraceContext child = TraceContext.newRoot(null).newChild();

    assertRoundTrips(child.toBuilder().sampled(false).build());
  }

  @Test
  void roundTrip_64BitTraceId() {
    assertRoundTrips(TraceContext.newBuilder().traceId(0L, 0x1234L).spanId(0x5678L).build());
  }

  @Test
  void roundTrip_maxIds() {
    assertRoundTrips(TraceContext.newBuilder().traceId(-1L, -1L).spanId(-1L).build());
  }

  @Property(tries = 300)
  void roundTrip_arbitraryValidContexts(
      @ForAll long high,
      @ForAll long low,
      @ForAll long spanId,
      @ForAll long parentId,
      @ForAll boolean sampled) {
    Assume.that((high | low) != 0L && spanId != 0L);
    assertRoundTrips(
        TraceContext.newBuilder()
            .traceId(high, low)
            .spanId(spanId)
            .parentId(parentId)
            .sampled(sampled)
            .build());
  }

  void assertRoundTrips(TraceContext context) {
    Map<String, String> carrier = MapCarrier.of();
    inject(context, carrier);
    TraceContext extracted = extract(carrier);

    assertThat(extracted).isNotNull();
    assertThat(extracted.traceIdHigh()).isEqualTo(context.traceIdHigh());
    assertThat(extracted.traceIdLow()).isEqualTo(context.traceIdLow());
    assertThat(extracted.spanId()).isEqualTo(context.spanId());
    if (carriesSampled()) assertThat(extracted.sampled()).isEqualTo(context.sampled());
    if (carriesParentId()) assertThat(extracted.parentId()).isEqualTo(context.parentId());
  }
}
