package io.hoptrace.correlation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.store.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InboundRegistryConcurrencyTest {
  /**
   * Inbound threads begin, deliver and end requests while outbound threads decide, for a fixed
   * count: no exception, every decision is well formed, and nothing stays in flight at the end.
   */
  @Test
  void beginDeliverEndAndDecide_concurrently_noExceptionAndConsistentDecisions() throws Exception {
    InboundRegistry registry =
        InboundRegistry.newBuilder()
            .period(Duration.ofMinutes(1))
            .capPerGeneration(100_000)
            .grace(Duration.ofMillis(1))
            .ticker(Ticker.system())
            .build();
    Correlator correlator = new Correlator(registry);
    int inboundThreads = 2;
    int outboundThreads = 2;
    int perThread = 20_000;
    ExecutorService pool = Executors.newFixedThreadPool(inboundThreads + outboundThreads);
    List<Future<Map<Link, Integer>>> results = new ArrayList<>();
    try {
      CountDownLatch start = new CountDownLatch(1);
      for (int t = 0; t < inboundThreads; t++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    long now = registry.ticker().read();
                    InboundRequest r =
                        registry.begin(TraceContext.newRoot(null), "GET /", null, null, now);
                    registry.delivered(r, registry.ticker().read());
                    // The app forwards our traceparent on some calls.
                    if (i % 4 == 0) {
                      Decision d =
                          correlator.decide(
                              OutboundCall.newBuilder()
                                  .forwardedContext(r.context())
                                  .startNanos(registry.ticker().read())
                                  .build());
                      assertThat(d.link()).isEqualTo(Link.HEADER);
                      assertThat(d.inbound()).isSameAs(r);
                    }
                    registry.end(r, registry.ticker().read());
                  }
                  return new EnumMap<>(Link.class);
                }));
      }
      for (int t = 0; t < outboundThreads; t++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  Map<Link, Integer> seen = new EnumMap<>(Link.class);
                  for (int i = 0; i < perThread; i++) {
                    Decision d =
                        correlator.decide(
                            OutboundCall.newBuilder().startNanos(registry.ticker().read()).build());
                    seen.merge(d.link(), 1, Integer::sum);
                    if (d.link() == Link.ROOT) {
                      assertThat(d.inbound()).isNull();
                      assertThat(d.parent()).isNull();
                    } else {
                      assertThat(d.inbound()).isNotNull();
                      assertThat(d.parent()).isEqualTo(d.inbound().context());
                    }
                    if (d.link() == Link.INFERRED)
                      assertThat(d.score()).startsWith("fewest_calls:");
                  }
                  return seen;
                }));
      }
      start.countDown();
      for (Future<Map<Link, Integer>> f : results) f.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(registry.inFlightCount()).isZero();
    assertThat(registry.refusedCount()).isZero();
  }
}
