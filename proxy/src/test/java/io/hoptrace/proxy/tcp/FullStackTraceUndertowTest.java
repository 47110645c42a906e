package io.hoptrace.proxy.tcp;

/**
 * The {@link FullStackTraceTest} case again with {@code outbound.engine = undertow}: the Undertow
 * path, which the outbound byte relay (the default) hands what it does not carry, stays a supported
 * choice.
 */
class FullStackTraceUndertowTest extends FullStackTraceTest {
  FullStackTraceUndertowTest() {
    outboundEngine = "undertow";
  }
}
