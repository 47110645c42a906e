package io.hoptrace.proxy.guard;

/** Every {@link ForwardingFidelityTest} case again with {@code upstream.client = jetty}. */
class ForwardingFidelityJettyTest extends ForwardingFidelityTest {
  ForwardingFidelityJettyTest() {
    upstreamClient = "jetty";
    inboundEngine = "undertow"; // the Jetty transport carries the Undertow path's requests
  }
}
