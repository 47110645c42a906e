package io.hoptrace.proxy;

/**
 * Every {@link InboundTraceContextTest} case again with {@code inbound.engine = undertow}: the
 * Undertow path, which the byte relay (the default) hands what it does not carry, stays a supported
 * choice.
 */
class InboundTraceContextUndertowTest extends InboundTraceContextTest {
  InboundTraceContextUndertowTest() {
    inboundEngine = "undertow";
  }
}
