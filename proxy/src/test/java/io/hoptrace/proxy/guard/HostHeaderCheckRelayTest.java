package io.hoptrace.proxy.guard;

/** Every {@link HostHeaderCheckTest} case again with {@code inbound.engine = relay}. */
class HostHeaderCheckRelayTest extends HostHeaderCheckTest {
  HostHeaderCheckRelayTest() {
    inboundEngine = "relay";
  }
}
