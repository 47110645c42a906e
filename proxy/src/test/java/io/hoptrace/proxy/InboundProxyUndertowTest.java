package io.hoptrace.proxy;

/**
 * Every {@link InboundProxyTest} case again with {@code inbound.engine = undertow}: the Undertow
 * path, which the byte relay (the default) hands what it does not carry, stays a supported choice.
 */
class InboundProxyUndertowTest extends InboundProxyTest {
  InboundProxyUndertowTest() {
    inboundEngine = "undertow";
  }
}
