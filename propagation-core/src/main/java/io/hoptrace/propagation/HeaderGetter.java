package io.hoptrace.propagation;

import org.jspecify.annotations.Nullable;

/**
 * Reads a header from a carrier (Undertow's {@code HeaderMap}, Jetty's {@code HttpFields}, a test
 * map). Implementations are {@code static final} constants: no lambda is allocated per request.
 *
 * @param <C> the carrier type
 */
public interface HeaderGetter<C> {
  /**
   * The header's value, or null when absent. When the header occurs several times, the values are
   * joined with {@code ","} in order, as RFC 9110 §5.3 combines field lines; this is also what
   * makes a duplicated {@code traceparent} invalid and a split {@code tracestate} whole, as W3C
   * requires. Names are matched case-insensitively.
   */
  @Nullable String get(C carrier, String name);
}
