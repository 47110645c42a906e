package io.hoptrace.proxy.guard;

/**
 * Every {@link DrainRefusalTest} case again with {@code inbound.engine = undertow}: the Undertow
 * path, which the byte relay (the default) hands what it does not carry, stays a supported choice.
 */
class DrainRefusalUndertowTest extends DrainRefusalTest {
  DrainRefusalUndertowTest() {
    inboundEngine = "undertow";
  }
}
