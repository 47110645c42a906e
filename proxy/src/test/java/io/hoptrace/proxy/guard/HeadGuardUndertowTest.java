package io.hoptrace.proxy.guard;

/**
 * Every {@link HeadGuardTest} case again with {@code inbound.engine = undertow} and {@code
 * outbound.engine = undertow} (for the cases on the forward proxy and route listeners): the
 * Undertow path, which the byte relays (the default) hand what they do not carry, stays a supported
 * choice.
 */
class HeadGuardUndertowTest extends HeadGuardTest {
  HeadGuardUndertowTest() {
    inboundEngine = "undertow";
    outboundEngine = "undertow";
  }
}
