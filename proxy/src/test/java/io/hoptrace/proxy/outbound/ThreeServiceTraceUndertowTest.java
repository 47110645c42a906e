package io.hoptrace.proxy.outbound;

/**
 * Every {@link ThreeServiceTraceTest} case again with {@code outbound.engine = undertow}: the
 * Undertow path, which the outbound byte relay (the default) hands what it does not carry, stays a
 * supported choice.
 */
class ThreeServiceTraceUndertowTest extends ThreeServiceTraceTest {
  ThreeServiceTraceUndertowTest() {
    outboundEngine = "undertow";
  }
}
