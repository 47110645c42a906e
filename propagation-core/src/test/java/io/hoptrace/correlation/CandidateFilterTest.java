package io.hoptrace.correlation;

import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.store.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The correlator with a {@link CandidateFilter}: asked only on the inferred path. */
class CandidateFilterTest {
  final ManualTicker ticker = new ManualTicker();
  final InboundRegistry registry =
      InboundRegistry.newBuilder()
          .generations(3)
          .period(Duration.ofSeconds(10))
          .capPerGeneration(1000)
          .grace(Duration.ofMillis(500))
          .ticker(ticker)
          .build();
  final AtomicInteger asked = new AtomicInteger();
  int requests;

  InboundRequest arriveAndDeliver() {
    requests++;
    InboundRequest r =
        registry.begin(
            TraceContext.newRoot("req-" + requests),
            "GET /orders",
            "req-" + requests,
            null,
            ticker.read());
    ticker.advance(Duration.ofMillis(1));
    registry.delivered(r, ticker.read());
    return r;
  }

  Decision call(CandidateFilter filter) {
    CandidateFilter counting =
        (call, candidates) -> {
          asked.incrementAndGet();
          return filter.narrow(call, candidates);
        };
    return new Correlator(registry, FewestCallsRule.INSTANCE, counting)
        .decide(OutboundCall.newBuilder().startNanos(ticker.read()).build());
  }

  @Test
  void exact_isAProcessLink_withEveryInFlightRequestCounted() {
    InboundRequest a = arriveAndDeliver();
    arriveAndDeliver();
    arriveAndDeliver();

    Decision d = call((call, candidates) -> CandidateFilter.Narrowing.exact(a));

    assertThat(d.link()).isEqualTo(Link.PROCESS);
    assertThat(d.inbound()).isSameAs(a);
    assertThat(d.parent()).isEqualTo(a.context());
    assertThat(d.candidates()).isEqualTo(3);
    assertThat(d.narrowed()).isFalse();
    assertThat(d.score()).isNull();
    assertThat(a.linkedCalls()).isEqualTo(1);
  }

  @Test
  void subset_isInferredAmongIt_andCandidatesIsItsSize() {
    InboundRequest a = arriveAndDeliver();
    InboundRequest b = arriveAndDeliver();
    arriveAndDeliver();
    arriveAndDeliver();
    List<InboundRequest> chosenFrom = new ArrayList<>();

    Decision d =
        call(
            (call, candidates) -> {
              assertThat(candidates).hasSize(4);
              chosenFrom.addAll(List.of(a, b));
              return CandidateFilter.Narrowing.subset(List.of(a, b));
            });

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.inbound()).isIn(chosenFrom);
    assertThat(d.candidates()).isEqualTo(2);
    assertThat(d.inFlight()).isEqualTo(4);
    assertThat(d.narrowed()).isTrue();
    assertThat(d.score()).isNotNull();
  }

  @Test
  void noEvidence_isTheCorrelatorAsBefore() {
    arriveAndDeliver();
    arriveAndDeliver();

    Decision d = call(CandidateFilter.NONE);

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.candidates()).isEqualTo(2);
    assertThat(d.narrowed()).isFalse();
  }

  @Test
  void soleAndRoot_neverAskTheFilter() {
    Decision root = call((call, candidates) -> CandidateFilter.Narrowing.exact(candidates.get(0)));
    arriveAndDeliver();
    Decision sole = call((call, candidates) -> CandidateFilter.Narrowing.exact(candidates.get(0)));

    assertThat(root.link()).isEqualTo(Link.ROOT);
    assertThat(sole.link()).isEqualTo(Link.SOLE);
    assertThat(asked).hasValue(0);
  }

  @Test
  void bindConnection_afterBegin_isVisibleToTheFilter() {
    InboundRequest a = arriveAndDeliver();
    arriveAndDeliver();
    a.bindConnection("conn-a");
    List<Object> keys = new ArrayList<>();

    call(
        (call, candidates) -> {
          for (InboundRequest r : candidates) keys.add(String.valueOf(r.connectionKey()));
          return null;
        });

    assertThat(keys).containsExactlyInAnyOrder("conn-a", "null");
  }

  @Test
  void decideWithoutBlocking_returnsNullInsteadOfAskingTheFilter_andRecordsNothing() {
    InboundRequest a = arriveAndDeliver();
    InboundRequest b = arriveAndDeliver();
    Correlator correlator =
        new Correlator(
            registry,
            FewestCallsRule.INSTANCE,
            (call, candidates) -> {
              asked.incrementAndGet();
              return CandidateFilter.Narrowing.exact(a);
            });
    OutboundCall call = OutboundCall.newBuilder().startNanos(ticker.read()).build();

    assertThat(correlator.decideWithoutBlocking(call)).isNull();
    assertThat(asked).hasValue(0);
    assertThat(a.linkedCalls() + b.linkedCalls()).isZero();

    Decision d = correlator.decide(call); // what the worker thread then does
    assertThat(d.link()).isEqualTo(Link.PROCESS);
    assertThat(asked).hasValue(1);
  }

  @Test
  void decideWithoutBlocking_decidesTheSoleAndRootCasesItself() {
    Correlator correlator =
        new Correlator(
            registry,
            FewestCallsRule.INSTANCE,
            (call, candidates) -> {
              asked.incrementAndGet();
              return null;
            });
    Decision root =
        correlator.decideWithoutBlocking(
            OutboundCall.newBuilder().startNanos(ticker.read()).build());
    assertThat(root).isNotNull();
    assertThat(root.link()).isEqualTo(Link.ROOT);

    InboundRequest a = arriveAndDeliver();
    Decision sole =
        correlator.decideWithoutBlocking(
            OutboundCall.newBuilder().startNanos(ticker.read()).build());
    assertThat(sole).isNotNull();
    assertThat(sole.link()).isEqualTo(Link.SOLE);
    assertThat(sole.inbound()).isSameAs(a);
    assertThat(asked).hasValue(0);
  }

  @Test
  void decideWithoutBlocking_withoutAFilter_alwaysDecides() {
    arriveAndDeliver();
    arriveAndDeliver();
    Decision d =
        new Correlator(registry)
            .decideWithoutBlocking(OutboundCall.newBuilder().startNanos(ticker.read()).build());
    assertThat(d).isNotNull();
    assertThat(d.link()).isEqualTo(Link.INFERRED);
  }
}
