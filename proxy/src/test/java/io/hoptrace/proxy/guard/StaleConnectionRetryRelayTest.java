package io.hoptrace.proxy.guard;

/** Every {@link StaleConnectionRetryTest} case again with {@code inbound.engine = relay}. */
class StaleConnectionRetryRelayTest extends StaleConnectionRetryTest {
  StaleConnectionRetryRelayTest() {
    inboundEngine = "relay";
  }
}
