package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.store.ManualTicker;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The correlator on synthetic event streams, with time driven by a ManualTicker. */
class CorrelatorTest {
  static final Duration PERIOD = Duration.ofSeconds(10);
  static final Duration GRACE = Duration.ofMillis(500);

  final ManualTicker ticker = new ManualTicker();
  final InboundRegistry registry =
      InboundRegistry.newBuilder()
          .generations(3)
          .period(PERIOD)
          .capPerGeneration(1000)
          .grace(GRACE)
          .ticker(ticker)
          .build();
  final Correlator correlator = new Correlator(registry);
  int requests;

  /** An inbound request that arrived now and was delivered to the app 1 ms later. */
  InboundRequest arriveAndDeliver() {
    InboundRequest r = arrive();
    ticker.advance(Duration.ofMillis(1));
    registry.delivered(r, ticker.read());
    return r;
  }

  InboundRequest arrive() {
    requests++;
    return registry.begin(
        TraceContext.newRoot("req-" + requests),
        "GET /orders",
        "req-" + requests,
        null,
        ticker.read());
  }

  void end(InboundRequest r) {
    registry.end(r, ticker.read());
  }

  Decision call(@Nullable TraceContext forwarded, @Nullable String requestId) {
    return correlator.decide(
        OutboundCall.newBuilder()
            .forwardedContext(forwarded)
            .forwardedRequestId(requestId)
            .authority("payments:8080")
            .method("POST")
            .path("/charge")
            .startNanos(ticker.read())
            .build());
  }

  Decision call() {
    return call(null, null);
  }

  @Test
  void decide_forwardedTraceparentNamingOurServerSpan_isHeaderToThatRequest() {
    InboundRequest a = arriveAndDeliver();
    arriveAndDeliver(); // a second one in flight: the header must win over inference

    Decision d = call(a.context(), null);

    assertThat(d.link()).isEqualTo(Link.HEADER);
    assertThat(d.inbound()).isSameAs(a);
    assertThat(d.parent()).isEqualTo(a.context());
    assertThat(d.candidates()).isEqualTo(2);
    assertThat(d.score()).isNull();
    assertThat(a.linkedCalls()).isEqualTo(1);
  }

  @Test
  void decide_forwardedRequestIdOnly_isHeaderToThatRequest() {
    arriveAndDeliver();
    InboundRequest b = arriveAndDeliver();

    Decision d = call(null, b.requestId());

    assertThat(d.link()).isEqualTo(Link.HEADER);
    assertThat(d.inbound()).isSameAs(b);
    assertThat(d.parent()).isEqualTo(b.context());
  }

  @Test
  void decide_forwardedHeaderAfterTheRequestEnded_stillHeader() {
    InboundRequest a = arriveAndDeliver();
    end(a);
    ticker.advance(Duration.ofSeconds(15)); // long after the grace window, within the ring

    Decision d = call(a.context(), null);

    assertThat(d.link()).isEqualTo(Link.HEADER);
    // An ended request is remembered as a compact record: the decision gets a copy of it.
    InboundRequest found = requireNonNull(d.inbound());
    assertThat(found.context()).isEqualTo(a.context());
    assertThat(found.requestId()).isEqualTo(a.requestId());
    assertThat(found.routeKey()).isEqualTo(a.routeKey());
    assertThat(found.endNanos()).isEqualTo(a.endNanos());
    assertThat(d.parent()).isEqualTo(a.context());
    assertThat(d.candidates()).isZero();
  }

  @Test
  void decide_unknownTraceparentFromTheAppsOwnTracer_isContinuedAsHeader() {
    arriveAndDeliver();
    TraceContext appSpan = TraceContext.newRoot(null).newChild();

    Decision d = call(appSpan, null);

    assertThat(d.link()).isEqualTo(Link.HEADER);
    assertThat(d.inbound()).isNull();
    assertThat(d.parent()).isEqualTo(appSpan);
    assertThat(d.candidates()).isEqualTo(1);
  }

  @Test
  void decide_appsOwnSpanPlusKnownRequestId_continuesTheAppsSpanForThatRequest() {
    InboundRequest a = arriveAndDeliver();
    TraceContext appSpan = a.context().newChild(); // the app's tracer made a child of our span

    Decision d = call(appSpan, a.requestId());

    assertThat(d.link()).isEqualTo(Link.HEADER);
    assertThat(d.inbound()).isSameAs(a);
    assertThat(d.parent()).isEqualTo(appSpan);
  }

  @Test
  void decide_knownSpanIdInAnotherTrace_isNotThatRequest() {
    InboundRequest a = arriveAndDeliver();
    TraceContext forged =
        TraceContext.newBuilder().traceId(1, 2).spanId(a.context().spanId()).build();

    Decision d = call(forged, null);

    assertThat(d.link()).isEqualTo(Link.HEADER);
    assertThat(d.inbound()).isNull();
    assertThat(d.parent()).isEqualTo(forged);
  }

  @Test
  void decide_unknownRequestIdAlone_fallsThroughToSole() {
    InboundRequest a = arriveAndDeliver();

    Decision d = call(null, "never-seen");

    assertThat(d.link()).isEqualTo(Link.SOLE);
    assertThat(d.inbound()).isSameAs(a);
  }

  @Test
  void decide_exactlyOneInFlight_isSole() {
    InboundRequest a = arriveAndDeliver();

    Decision d = call();

    assertThat(d.link()).isEqualTo(Link.SOLE);
    assertThat(d.inbound()).isSameAs(a);
    assertThat(d.parent()).isEqualTo(a.context());
    assertThat(d.candidates()).isEqualTo(1);
    assertThat(d.score()).isNull();
  }

  @Test
  void decide_soleOneIsNotTheLastDelivered_stillSole() {
    InboundRequest a = arriveAndDeliver();
    InboundRequest b = arriveAndDeliver();
    end(b); // a is the only one left, but b was delivered last

    Decision d = call();

    assertThat(d.link()).isEqualTo(Link.SOLE);
    assertThat(d.inbound()).isSameAs(a);
  }

  @Test
  void decide_severalInFlight_isInferredWithCandidatesAndScore() {
    InboundRequest a = arriveAndDeliver();
    InboundRequest b = arriveAndDeliver();
    InboundRequest c = arriveAndDeliver();

    Decision first = call();

    assertThat(first.link()).isEqualTo(Link.INFERRED);
    assertThat(first.candidates()).isEqualTo(3);
    assertThat(first.inbound()).isSameAs(c); // all at 0 calls: the most recently delivered
    assertThat(first.parent()).isEqualTo(c.context());
    assertThat(first.score()).isEqualTo("fewest_calls:calls=0,age_us=0,ties=2");

    ticker.advance(Duration.ofMillis(2));
    Decision second = call();
    assertThat(second.inbound()).isSameAs(b); // c has a call now: the newest with none
    assertThat(second.score()).isEqualTo("fewest_calls:calls=0,age_us=3000,ties=1");

    Decision third = call();
    assertThat(third.inbound()).isSameAs(a);
    assertThat(third.score()).startsWith("fewest_calls:calls=0,").endsWith(",ties=0");
  }

  @Test
  void decide_notYetDeliveredRequests_areNotInFlightAtTheApp() {
    InboundRequest a = arriveAndDeliver();
    arrive(); // registered, still waiting for the app to accept it
    arrive();

    Decision d = call();

    assertThat(d.link()).isEqualTo(Link.SOLE);
    assertThat(d.inbound()).isSameAs(a);
    assertThat(d.candidates()).isEqualTo(1);
  }

  @Test
  void decide_onlyUndeliveredRequests_isRoot() {
    arrive();

    Decision d = call();

    assertThat(d.link()).isEqualTo(Link.ROOT);
    assertThat(d.inbound()).isNull();
    assertThat(d.parent()).isNull();
  }

  @Test
  void decide_nothingInFlightOrRecent_isRoot() {
    Decision d = call();

    assertThat(d.link()).isEqualTo(Link.ROOT);
    assertThat(d.inbound()).isNull();
    assertThat(d.parent()).isNull();
    assertThat(d.candidates()).isZero();
    assertThat(d.score()).isNull();
  }

  @Test
  void decide_fireAndForgetWithinGrace_isInferredToTheRequestThatJustEnded() {
    InboundRequest a = arriveAndDeliver();
    ticker.advance(Duration.ofMillis(5));
    end(a);
    ticker.advance(GRACE.minusMillis(1));

    Decision d = call();

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.inbound()).isSameAs(a);
    assertThat(d.candidates()).isZero();
    assertThat(d.score()).isEqualTo("fewest_calls:calls=0,ended_us=499000,ties=0");
  }

  @Test
  void decide_fireAndForgetAfterGrace_isRoot() {
    InboundRequest a = arriveAndDeliver();
    end(a);
    ticker.advance(GRACE.plusNanos(1));

    assertThat(call().link()).isEqualTo(Link.ROOT);
  }

  @Test
  void decide_endedButNeverDelivered_isNotAFireAndForgetCandidate() {
    InboundRequest a = arrive();
    end(a); // e.g. the app refused the connection

    assertThat(call().link()).isEqualTo(Link.ROOT);
  }

  @Test
  void decide_inFlightRequestThatNeverEnds_agesOutWithItsGeneration() {
    arriveAndDeliver();
    assertThat(call().link()).isEqualTo(Link.SOLE);

    ticker.advance(PERIOD.multipliedBy(3));

    assertThat(registry.inFlightCount()).isZero();
    assertThat(call().link()).isEqualTo(Link.ROOT);
  }

  @Test
  void decide_declinedByRule_isRootWithCandidates() {
    Correlator declining = new Correlator(registry, (call, candidates, now) -> null);
    arriveAndDeliver();
    arriveAndDeliver();

    Decision d = declining.decide(OutboundCall.newBuilder().startNanos(ticker.read()).build());

    assertThat(d.link()).isEqualTo(Link.ROOT);
    assertThat(d.candidates()).isEqualTo(2);
  }

  @Test
  void decide_manyInFlight_examinesAtMostMaxCandidates() {
    for (int i = 0; i < 200; i++) arriveAndDeliver();
    int[] seen = new int[1];
    Correlator counting =
        new Correlator(
            registry,
            (call, candidates, now) -> {
              seen[0] = candidates.size();
              return FewestCallsRule.INSTANCE.choose(call, candidates, now);
            });

    Decision d = counting.decide(OutboundCall.newBuilder().startNanos(ticker.read()).build());

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.candidates()).isEqualTo(200);
    assertThat(seen[0]).isEqualTo(Correlator.MAX_CANDIDATES);
  }

  @Test
  void end_isIdempotentAndRemovesFromInFlight() {
    InboundRequest a = arriveAndDeliver();
    end(a);
    ticker.advance(Duration.ofMillis(1));
    end(a);

    assertThat(registry.inFlightCount()).isZero();
    assertThat(registry.recentlyFinished(ticker.read(), 10)).containsExactly(a);
  }

  @Test
  void recentlyFinished_findsWhatEndedWithinGrace_byTheLatestEnd_notTheLastRecorded() {
    InboundRequest a = arriveAndDeliver();
    InboundRequest b = arriveAndDeliver();
    long t = ticker.read();
    registry.end(a, t + Duration.ofMillis(100).toNanos()); // recorded first, ends later
    registry.end(b, t);
    long aEnd = t + Duration.ofMillis(100).toNanos();
    ticker.advance(Duration.ofMillis(100).plus(GRACE).minusNanos(1)); // b out, a still in
    assertThat(registry.recentlyFinished(ticker.read(), 10)).containsExactly(a);
    assertThat(registry.recentlyFinished(aEnd + GRACE.toNanos(), 10)).containsExactly(a);
    assertThat(registry.recentlyFinished(aEnd + GRACE.toNanos() + 1, 10)).isEmpty();
    // a later end within the window is found again among the old ones
    InboundRequest c = arriveAndDeliver();
    end(c);
    assertThat(registry.recentlyFinished(ticker.read(), 10)).containsExactly(c);
  }

  @Test
  void recentlyFinished_withATickerBelowZero() {
    ManualTicker negative = new ManualTicker(-Duration.ofSeconds(30).toNanos());
    InboundRegistry r = InboundRegistry.newBuilder().grace(GRACE).ticker(negative).build();
    InboundRequest a =
        r.begin(TraceContext.newRoot("n-1"), "GET /orders", "n-1", null, negative.read());
    r.delivered(a, negative.advance(Duration.ofMillis(1)));
    r.end(a, negative.advance(Duration.ofMillis(1)));
    assertThat(r.recentlyFinished(negative.advance(GRACE), 10)).containsExactly(a);
    assertThat(r.recentlyFinished(negative.advance(1), 10)).isEmpty();
  }

  @Test
  void findBySpanIdAndRequestId_findRegisteredRequests() {
    InboundRequest a = arrive();

    assertThat(registry.findBySpanId(a.context().spanId())).isSameAs(a);
    assertThat(registry.findByRequestId("req-1")).isSameAs(a);
    assertThat(registry.findBySpanId(0)).isNull();
    assertThat(registry.findByRequestId("nope")).isNull();
  }

  @Test
  void link_tagValues_areLowercaseNames() {
    assertThat(Link.HEADER.tagValue()).isEqualTo("header");
    assertThat(Link.PROCESS.tagValue()).isEqualTo("process");
    assertThat(Link.SOLE.tagValue()).isEqualTo("sole");
    assertThat(Link.INFERRED.tagValue()).isEqualTo("inferred");
    assertThat(Link.ROOT.tagValue()).isEqualTo("root");
  }

  /**
   * A million requests that are delivered and never end, each with a distinct request id, over many
   * periods: every ring stays within generations x cap, refusals are counted, and once the traffic
   * stops everything ages out.
   */
  @Test
  void registry_millionNeverEndingRequests_memoryStaysBounded() {
    int cap = 1000;
    InboundRegistry bounded =
        InboundRegistry.newBuilder()
            .generations(3)
            .period(PERIOD)
            .capPerGeneration(cap)
            .ticker(ticker)
            .build();
    Correlator c = new Correlator(bounded);
    long ringMax = 3L * cap;
    TraceContext parent = TraceContext.newRoot(null);
    for (int i = 0; i < 1_000_000; i++) {
      InboundRequest r = bounded.begin(parent.newChild(), "GET /x", "id-" + i, null, ticker.read());
      bounded.delivered(r, ticker.read());
      if (i % 1000 == 0) {
        ticker.advance(PERIOD.dividedBy(4)); // 250 periods in all
        assertThat(bounded.size()).isLessThanOrEqualTo((int) ringMax);
        assertThat(bounded.inFlightCount()).isLessThanOrEqualTo((int) ringMax);
        assertThat(bounded.heldEntries()).isLessThanOrEqualTo(3 * ringMax + 64);
      }
      if (i % 100_000 == 99_999) {
        Decision d = c.decide(OutboundCall.newBuilder().startNanos(ticker.read()).build());
        assertThat(d.link()).isEqualTo(Link.INFERRED);
        assertThat(d.candidates()).isBetween(2, (int) ringMax);
      }
    }
    assertThat(bounded.ringCapacity()).isEqualTo(ringMax);
    assertThat(bounded.refusedCount()).isPositive();

    ticker.advance(PERIOD.multipliedBy(3));

    assertThat(bounded.size()).isZero();
    assertThat(bounded.inFlightCount()).isZero();
    assertThat(c.decide(OutboundCall.newBuilder().startNanos(ticker.read()).build()).link())
        .isEqualTo(Link.ROOT);
  }
}
