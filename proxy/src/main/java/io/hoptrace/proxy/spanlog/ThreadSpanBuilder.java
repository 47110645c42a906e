package io.hoptrace.proxy.spanlog;

import io.hoptrace.span.Span;

/**
 * One {@link Span.Builder} per thread for the request path's span lines (the SERVER span of the
 * inbound hop, the CLIENT span of the outbound one), emptied for each span instead of allocated:
 * ~230 bytes per request less (bench/README.md, "Request path CPU (s16)"). A span is offered
 * (encoded straight from the builder by the span log, {@link SpanSink}) before the code that fills
 * it returns, and nothing that fills one starts another on the same thread meanwhile; callers that
 * could nest keep using {@link Span#newBuilder()}.
 */
public final class ThreadSpanBuilder {
  private static final ThreadLocal<Span.Builder> BUILDERS =
      ThreadLocal.withInitial(Span::newBuilder);

  /** This thread's builder, empty. Valid until the next call on the same thread. */
  public static Span.Builder get() {
    return BUILDERS.get().reset();
  }

  private ThreadSpanBuilder() {}
}
