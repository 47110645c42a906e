package io.hoptrace.proxy.spanlog;

import io.hoptrace.span.Span;
import java.util.function.Consumer;

/**
 * Where a hop's spans go: {@link Span}s, or the span a builder holds. The span log encodes a
 * builder's line straight from it ({@link SpanLogWriter#sink()}), so the request path's reused
 * builder ({@link ThreadSpanBuilder}) needs no {@link Span} per request (bench/README.md, "Request
 * path allocation (s16b)"); any other sink (tests collecting spans) gets {@code builder.build()}.
 */
@FunctionalInterface
public interface SpanSink extends Consumer<Span> {
  /**
   * Takes the span {@code builder} holds, as {@link #accept} would take {@code builder.build()}.
   * The sink is done with the builder when this returns: the caller may empty and reuse it.
   */
  default void acceptBuilder(Span.Builder builder) {
    accept(builder.build());
  }
}
