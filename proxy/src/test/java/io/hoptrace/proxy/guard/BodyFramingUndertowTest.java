package io.hoptrace.proxy.guard;

/**
 * Every {@link BodyFramingTest} case again with {@code inbound.engine = undertow} and {@code
 * outbound.engine = undertow} (for the cases on the forward proxy's listener): the Undertow path,
 * which the byte relays (the default) hand what they do not carry, stays a supported choice.
 */
class BodyFramingUndertowTest extends BodyFramingTest {
  BodyFramingUndertowTest() {
    inboundEngine = "undertow";
    outboundEngine = "undertow";
  }
}
