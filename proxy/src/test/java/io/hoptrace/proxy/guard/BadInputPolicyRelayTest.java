package io.hoptrace.proxy.guard;

/** Every {@link BadInputPolicyTest} case again with {@code inbound.engine = relay}. */
class BadInputPolicyRelayTest extends BadInputPolicyTest {
  BadInputPolicyRelayTest() {
    inboundEngine = "relay";
  }
}
