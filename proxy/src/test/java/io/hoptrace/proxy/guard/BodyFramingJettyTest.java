package io.hoptrace.proxy.guard;

/**
 * Every {@link BodyFramingTest} case again with {@code upstream.client = jetty} (not the default).
 * Includes the app-answered-in-full cases, whose Jetty race (two readers of the body once the
 * exchange ended) {@code ClientToProxyContent} now fails rather than ends early.
 */
class BodyFramingJettyTest extends BodyFramingTest {
  BodyFramingJettyTest() {
    upstreamClient = "jetty";
    inboundEngine = "undertow"; // the Jetty transport carries the Undertow path's requests
    outboundEngine = "undertow"; // on the forward proxy's listener too
  }
}
