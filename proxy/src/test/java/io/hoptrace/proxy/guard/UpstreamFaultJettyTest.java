package io.hoptrace.proxy.guard;

/**
 * Every {@link UpstreamFaultTest} case again with {@code upstream.client = jetty} (not the
 * default).
 */
class UpstreamFaultJettyTest extends UpstreamFaultTest {
  UpstreamFaultJettyTest() {
    upstreamClient = "jetty";
    inboundEngine = "undertow"; // the Jetty transport carries the Undertow path's requests
  }
}
