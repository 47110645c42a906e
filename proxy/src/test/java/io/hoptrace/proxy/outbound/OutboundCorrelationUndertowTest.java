package io.hoptrace.proxy.outbound;

/**
 * Every {@link OutboundCorrelationTest} case again with {@code outbound.engine = undertow}: the
 * Undertow path, which the outbound byte relay (the default) hands what it does not carry, stays a
 * supported choice.
 */
class OutboundCorrelationUndertowTest extends OutboundCorrelationTest {
  OutboundCorrelationUndertowTest() {
    outboundEngine = "undertow";
  }
}
