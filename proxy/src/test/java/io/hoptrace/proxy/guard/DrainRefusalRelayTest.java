package io.hoptrace.proxy.guard;

/** Every {@link DrainRefusalTest} case again with {@code inbound.engine = relay}. */
class DrainRefusalRelayTest extends DrainRefusalTest {
  DrainRefusalRelayTest() {
    inboundEngine = "relay";
  }
}
