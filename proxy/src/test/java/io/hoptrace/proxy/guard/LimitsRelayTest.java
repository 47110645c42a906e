package io.hoptrace.proxy.guard;

/** Every {@link LimitsTest} case again with {@code inbound.engine = relay}. */
class LimitsRelayTest extends LimitsTest {
  LimitsRelayTest() {
    inboundEngine = "relay";
  }
}
