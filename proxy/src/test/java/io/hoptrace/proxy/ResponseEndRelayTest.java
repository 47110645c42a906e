package io.hoptrace.proxy;

/**
 * Every {@link ResponseEndTest} case again with {@code inbound.engine = relay}: the byte relay
 * answers each as the Undertow path does (what it does not carry itself, it hands to that path).
 */
class ResponseEndRelayTest extends ResponseEndTest {
  ResponseEndRelayTest() {
    inboundEngine = "relay";
  }
}
