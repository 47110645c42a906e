package io.hoptrace.proxy.guard;

/**
 * Every {@link NormalisedInputTest} case again with {@code inbound.engine = undertow}: the Undertow
 * path, which the byte relay (the default) hands what it does not carry, stays a supported choice.
 */
class NormalisedInputUndertowTest extends NormalisedInputTest {
  NormalisedInputUndertowTest() {
    inboundEngine = "undertow";
  }
}
