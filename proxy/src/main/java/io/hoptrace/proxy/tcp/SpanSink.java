package io.hoptrace.proxy.tcp;

import io.hoptrace.span.Span;

/**
 * Where finished spans go (the span-log writer). Called on the relay's selector thread, so it must
 * not block: hand the span to a queue and return.
 */
@FunctionalInterface
public interface SpanSink {
  void accept(Span span);
}
