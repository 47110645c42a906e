package io.hoptrace.proxy.outbound;

/**
 * The {@link OutboundStartupTest} case again with {@code outbound.engine = undertow}: the Undertow
 * path, which the outbound byte relay (the default) hands what it does not carry, stays a supported
 * choice.
 */
class OutboundStartupUndertowTest extends OutboundStartupTest {
  OutboundStartupUndertowTest() {
    outboundEngine = "undertow";
  }
}
