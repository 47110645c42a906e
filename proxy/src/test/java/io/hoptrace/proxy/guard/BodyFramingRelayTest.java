package io.hoptrace.proxy.guard;

/** Every {@link BodyFramingTest} case again with {@code inbound.engine = relay}. */
class BodyFramingRelayTest extends BodyFramingTest {
  BodyFramingRelayTest() {
    inboundEngine = "relay";
  }
}
