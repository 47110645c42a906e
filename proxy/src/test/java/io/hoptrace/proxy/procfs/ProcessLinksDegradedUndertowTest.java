package io.hoptrace.proxy.procfs;

/**
 * Every {@link ProcessLinksDegradedTest} case again with {@code outbound.engine = undertow}: the
 * Undertow path, which the outbound byte relay (the default) hands what it does not carry, stays a
 * supported choice.
 */
class ProcessLinksDegradedUndertowTest extends ProcessLinksDegradedTest {
  ProcessLinksDegradedUndertowTest() {
    outboundEngine = "undertow";
  }
}
