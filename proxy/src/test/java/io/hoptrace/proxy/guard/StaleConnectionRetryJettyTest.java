package io.hoptrace.proxy.guard;

/**
 * Every {@link StaleConnectionRetryTest} case again with {@code upstream.client = jetty}. Jetty's
 * HttpClient does not send a request again when its pooled connection turns out stale (it fails the
 * request: "connection_terminated"); the transport does, by the same rules as same-loop.
 */
class StaleConnectionRetryJettyTest extends StaleConnectionRetryTest {
  StaleConnectionRetryJettyTest() {
    upstreamClient = "jetty";
    inboundEngine = "undertow"; // the Jetty transport carries the Undertow path's requests
  }
}
