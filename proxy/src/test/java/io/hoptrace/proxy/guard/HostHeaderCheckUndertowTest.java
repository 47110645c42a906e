package io.hoptrace.proxy.guard;

/**
 * Every {@link HostHeaderCheckTest} case again with {@code inbound.engine = undertow} and {@code
 * outbound.engine = undertow} (for the cases on the forward proxy's listener): the Undertow path,
 * which the byte relays (the default) hand what they do not carry, stays a supported choice.
 */
class HostHeaderCheckUndertowTest extends HostHeaderCheckTest {
  HostHeaderCheckUndertowTest() {
    inboundEngine = "undertow";
    outboundEngine = "undertow";
  }
}
