package io.hoptrace.proxy.guard;

/** Every {@link ForwardingFidelityTest} case again with {@code inbound.engine = relay}. */
class ForwardingFidelityRelayTest extends ForwardingFidelityTest {
  ForwardingFidelityRelayTest() {
    inboundEngine = "relay";
  }
}
