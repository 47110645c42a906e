package io.hoptrace.proxy;

/**
 * Every {@link InboundProxyTest} case again with {@code upstream.client = jetty} (the default is
 * same-loop): the Jetty transport stays a supported choice.
 */
class InboundProxyJettyTest extends InboundProxyTest {
  InboundProxyJettyTest() {
    upstreamClient = "jetty";
    inboundEngine = "undertow"; // the Jetty transport carries the Undertow path's requests
  }
}
