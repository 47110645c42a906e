package io.hoptrace.proxy.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import java.time.Duration;

/** Shared bits of the relay integration tests: a linker, and the no-leak check. */
public final class RelayHarness {
  private RelayHarness() {}

  /** An inbound request in flight, as the correlator would report it with one candidate. */
  public static final TraceContext INBOUND = TraceContext.newRoot(null);

  public static final TcpLinker SOLE =
      (route, app, proxy, startNanos) -> TcpLink.of(INBOUND, "sole", 1, null);

  /** Waits (bounded) until the relay holds no connection and no buffer. */
  public static void assertNoLeak(TcpRelay relay) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while ((relay.openConnections() > 0 || relay.buffersInUse() > 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(relay.openConnections()).as("open connections").isZero();
    assertThat(relay.buffersInUse()).as("buffers in use").isZero();
    assertThat(relay.observerFailures()).as("observer failures").isZero();
  }
}
