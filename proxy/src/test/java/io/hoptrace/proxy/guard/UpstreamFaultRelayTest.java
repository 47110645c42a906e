package io.hoptrace.proxy.guard;

/** Every {@link UpstreamFaultTest} case again with {@code inbound.engine = relay}. */
class UpstreamFaultRelayTest extends UpstreamFaultTest {
  UpstreamFaultRelayTest() {
    inboundEngine = "relay";
  }
}
