package io.hoptrace.proxy;

/**
 * Every {@link WebSocketRelayTest} case again with {@code inbound.engine = relay}: the byte relay
 * hands an upgrade's connection to the Undertow path, which relays the WebSocket as before.
 */
class WebSocketHandOverTest extends WebSocketRelayTest {
  WebSocketHandOverTest() {
    inboundEngine = "relay";
  }
}
