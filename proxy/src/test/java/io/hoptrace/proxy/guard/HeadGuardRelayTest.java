package io.hoptrace.proxy.guard;

/** Every {@link HeadGuardTest} case again with {@code inbound.engine = relay}. */
class HeadGuardRelayTest extends HeadGuardTest {
  HeadGuardRelayTest() {
    inboundEngine = "relay";
  }
}
