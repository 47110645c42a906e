package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.correlation.Link;
import io.hoptrace.correlation.OutboundCall;
import io.hoptrace.store.ManualTicker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** When a hop reads the correlator's clock: only an inferred decision looks at the call's end. */
class ClientHopTest {
  final ManualTicker time = new ManualTicker();
  final AtomicInteger reads = new AtomicInteger();
  final InboundRegistry registry =
      InboundRegistry.newBuilder()
          .ticker(
              () -> {
                reads.incrementAndGet();
                return time.read();
              })
          .build();
  final Correlator correlator = new Correlator(registry);
  final OutboundTarget target = new OutboundTarget("127.0.0.1", 8080, null);

  ClientHop hop(Decision d) {
    return new ClientHop(
        TraceContext.newRoot(null),
        d.link().tagValue(),
        d.candidates(),
        d.score(),
        0,
        "GET",
        "/x",
        target,
        1,
        System.nanoTime(),
        d,
        correlator);
  }

  Decision decide() {
    return correlator.decide(OutboundCall.newBuilder().startNanos(time.read()).build());
  }

  void arriveAndDeliver(String id) {
    InboundRequest r = registry.begin(TraceContext.newRoot(id), "GET /a", id, null, time.read());
    registry.delivered(r, time.advance(Duration.ofMillis(1)));
  }

  @Test
  void rootAndSole_readNoClockWhenTheyEnd() {
    Decision root = decide();
    assertThat(root.link()).isEqualTo(Link.ROOT);
    arriveAndDeliver("a");
    Decision sole = decide();
    assertThat(sole.link()).isEqualTo(Link.SOLE);
    for (Decision d : new Decision[] {root, sole}) {
      ClientHop hop = hop(d);
      int before = reads.get();
      hop.responded();
      assertThat(hop.refined()).isSameAs(hop);
      assertThat(reads.get()).isEqualTo(before);
    }
  }

  @Test
  void inferred_readsTheClockWhenAnswered_andRefinesWithThatReading() {
    arriveAndDeliver("a");
    arriveAndDeliver("b");
    Decision inferred = decide();
    assertThat(inferred.link()).isEqualTo(Link.INFERRED);
    ClientHop hop = hop(inferred);
    int before = reads.get();
    hop.responded();
    assertThat(reads.get()).isEqualTo(before + 1);
    hop.responded(); // once
    assertThat(reads.get()).isEqualTo(before + 1);
    ClientHop refined = hop.refined();
    assertThat(reads.get()).isEqualTo(before + 1); // the answer's reading, not a new one
    assertThat(refined.context.spanId()).isEqualTo(hop.context.spanId());
  }
}
