package io.hoptrace.proxy.guard;

/**
 * Every {@link HostHeaderCheckTest} case again with {@code inbound.engine = undertow}: the Undertow
 * path, which the byte relay (the default) hands what it does not carry, stays a supported choice.
 */
class HostHeaderCheckUndertowTest extends HostHeaderCheckTest {
  HostHeaderCheckUndertowTest() {
    inboundEngine = "undertow";
  }
}
