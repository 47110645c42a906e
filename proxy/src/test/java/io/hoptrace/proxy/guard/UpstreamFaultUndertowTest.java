package io.hoptrace.proxy.guard;

/**
 * Every {@link UpstreamFaultTest} case again with {@code inbound.engine = undertow}: the Undertow
 * path, which the byte relay (the default) hands what it does not carry, stays a supported choice.
 */
class UpstreamFaultUndertowTest extends UpstreamFaultTest {
  UpstreamFaultUndertowTest() {
    inboundEngine = "undertow";
  }
}
