package io.hoptrace.proxy.guard;

/**
 * Every {@link OutboundRefusalTest} case again with {@code outbound.engine = undertow}: the
 * Undertow path, which the outbound byte relay (the default) hands what it does not carry, stays a
 * supported choice.
 */
class OutboundRefusalUndertowTest extends OutboundRefusalTest {
  OutboundRefusalUndertowTest() {
    outboundEngine = "undertow";
  }
}
