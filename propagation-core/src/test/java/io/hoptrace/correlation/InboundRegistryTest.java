package io.hoptrace.correlation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.store.ManualTicker;
import io.hoptrace.store.Ticker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InboundRegistryTest {
  /**
   * With the system ticker the rings take the caller's stamps as their clock (one read per
   * operation): requests stamped with fresh System.nanoTime readings still age out of the rings,
   * the ended store and the in-flight set as the generations pass.
   */
  @Test
  void systemTicker_callersStamps_driveTheGenerations() throws InterruptedException {
    InboundRegistry registry =
        InboundRegistry.newBuilder()
            .generations(3)
            .period(Duration.ofMillis(40))
            .grace(Duration.ofMillis(1))
            .ticker(Ticker.system())
            .build();
    InboundRequest old =
        registry.begin(TraceContext.newRoot("old-1"), "GET /a", "old-1", null, System.nanoTime());
    registry.delivered(old, System.nanoTime());
    InboundRequest live =
        registry.begin(TraceContext.newRoot("live-1"), "GET /b", "live-1", null, System.nanoTime());
    registry.delivered(live, System.nanoTime());
    registry.end(old, System.nanoTime());
    assertThat(registry.findBySpanId(old.context.spanId())).isNotNull(); // its compact record
    assertThat(registry.findByRequestId("live-1")).isSameAs(live);
    assertThat(registry.inFlightCount()).isEqualTo(1);

    Thread.sleep(4 * 40 + 20); // past M·T: every generation replaced

    // The next operations' stamps are what the rings see: they advance before working.
    InboundRequest next =
        registry.begin(TraceContext.newRoot("next-1"), "GET /c", "next-1", null, System.nanoTime());
    registry.delivered(next, System.nanoTime());
    registry.end(next, System.nanoTime());
    assertThat(registry.findBySpanId(old.context.spanId())).isNull();
    assertThat(registry.findByRequestId("live-1")).isNull();
    assertThat(registry.findBySpanId(next.context.spanId())).isNotNull();
    assertThat(registry.inFlightCount()).isZero(); // the live one aged out of the in-flight set
  }

  /**
   * The rings key a request by one boxed span id, made once and used for all its ring operations;
   * lookups box their own (equal) key. The request is found, counted in flight, and moved to the
   * ended store as before.
   */
  @Test
  void oneBoxedSpanIdPerRequest_forEveryRingOperation() {
    ManualTicker ticker = new ManualTicker(100);
    InboundRegistry registry = InboundRegistry.newBuilder().ticker(ticker).build();
    TraceContext server =
        TraceContext.newBuilder().traceId(1, 2).spanId(0x7fff_0000_1234L).requestId("r").build();
    InboundRequest r = registry.begin(server, "GET /a", "r", null, ticker.read());

    Long key = r.spanIdKey();
    assertThat(key).isEqualTo(0x7fff_0000_1234L);
    assertThat(r.spanIdKey()).isSameAs(key);
    assertThat(registry.findBySpanId(0x7fff_0000_1234L)).isSameAs(r);
    registry.delivered(r, ticker.advance(100));
    assertThat(registry.inFlightCount()).isEqualTo(1);
    assertThat(r.spanIdKey()).isSameAs(key);
    registry.end(r, ticker.advance(100));
    assertThat(registry.inFlightCount()).isZero();
    InboundRequest copy = registry.findBySpanId(0x7fff_0000_1234L);
    assertThat(copy).isNotNull().isNotSameAs(r);
    assertThat(copy.context()).isEqualTo(server);
    assertThat(copy.spanIdKey()).isEqualTo(key);
  }
}
