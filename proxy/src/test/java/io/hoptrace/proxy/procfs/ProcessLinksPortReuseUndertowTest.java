package io.hoptrace.proxy.procfs;

/**
 * The {@link ProcessLinksPortReuseTest} case again with {@code outbound.engine = undertow}: the
 * Undertow path, which the outbound byte relay (the default) hands what it does not carry, stays a
 * supported choice.
 */
class ProcessLinksPortReuseUndertowTest extends ProcessLinksPortReuseTest {
  ProcessLinksPortReuseUndertowTest() {
    outboundEngine = "undertow";
  }
}
