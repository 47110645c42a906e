package io.hoptrace.proxy;

/**
 * Every {@link WebSocketRelayTest} case again with {@code inbound.engine = undertow} (by default
 * the byte relay hands an upgrade's connection to the Undertow path; here that path takes them
 * all).
 */
class WebSocketUndertowEngineTest extends WebSocketRelayTest {
  WebSocketUndertowEngineTest() {
    inboundEngine = "undertow";
  }
}
