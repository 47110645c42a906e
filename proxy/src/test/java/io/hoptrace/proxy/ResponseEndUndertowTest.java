package io.hoptrace.proxy;

/**
 * Every {@link ResponseEndTest} case again with {@code inbound.engine = undertow}: the Undertow
 * path, which the byte relay (the default) hands what it does not carry, stays a supported choice.
 */
class ResponseEndUndertowTest extends ResponseEndTest {
  ResponseEndUndertowTest() {
    inboundEngine = "undertow";
  }
}
