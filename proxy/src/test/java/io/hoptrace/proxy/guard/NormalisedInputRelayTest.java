package io.hoptrace.proxy.guard;

/** Every {@link NormalisedInputTest} case again with {@code inbound.engine = relay}. */
class NormalisedInputRelayTest extends NormalisedInputTest {
  NormalisedInputRelayTest() {
    inboundEngine = "relay";
  }
}
