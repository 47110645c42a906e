package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import io.hoptrace.context.TraceContext;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.store.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Ended requests kept as compact records: still linked by header, within the ring's lifetime. */
class EndedRequestsTest {
  static final Duration PERIOD = Duration.ofSeconds(10);

  final ManualTicker ticker = new ManualTicker();
  final InboundRegistry registry = registry(1000);
  final Correlator correlator = new Correlator(registry);

  InboundRegistry registry(int cap) {
    return InboundRegistry.newBuilder()
        .generations(3)
        .period(PERIOD)
        .capPerGeneration(cap)
        .grace(Duration.ofMillis(500))
        .ticker(ticker)
        .build();
  }

  static InboundRequest served(InboundRegistry reg, ManualTicker ticker, @Nullable String rid) {
    TraceContext ctx =
        TraceContext.newRoot(rid).toBuilder().tracestate("vendor=1").parentId(77L).build();
    InboundRequest r = reg.begin(ctx, "GET /orders/{id}", rid, new Object(), ticker.read());
    ticker.advance(Duration.ofMillis(1));
    reg.delivered(r, ticker.read());
    ticker.advance(Duration.ofMillis(2));
    reg.end(r, ticker.read());
    return r;
  }

  Decision call(@Nullable TraceContext forwarded, @Nullable String requestId) {
    return correlator.decide(
        OutboundCall.newBuilder()
            .forwardedContext(forwarded)
            .forwardedRequestId(requestId)
            .authority("10.0.0.9:80")
            .method("GET")
            .path("/x")
            .startNanos(ticker.read())
            .build());
  }

  @Test
  void endedRequest_leavesTheMapsForTheCompactStore() {
    InboundRequest r = served(registry, ticker, RequestIdCodec.newRequestId());

    assertThat(registry.endedRequests().size()).isEqualTo(1);
    assertThat(registry.size()).isEqualTo(1); // the span-id ring no longer holds it, the store does
    InboundRequest found = requireNonNull(registry.findBySpanId(r.context().spanId()));
    assertThat(found).isNotSameAs(r);
    assertThat(found.context().traceIdHigh()).isEqualTo(r.context().traceIdHigh());
    assertThat(found.context().traceIdLow()).isEqualTo(r.context().traceIdLow());
    assertThat(found.context().spanId()).isEqualTo(r.context().spanId());
    assertThat(found.context().flags()).isEqualTo(r.context().flags());
    assertThat(found.context().tracestate()).isEqualTo("vendor=1");
    assertThat(found.context().requestId()).isEqualTo(r.requestId());
    assertThat(found.requestId()).isEqualTo(r.requestId());
    assertThat(found.routeKey()).isEqualTo("GET /orders/{id}");
    assertThat(found.startNanos()).isEqualTo(r.startNanos());
    assertThat(found.deliveredNanos()).isEqualTo(r.deliveredNanos());
    assertThat(found.endNanos()).isEqualTo(r.endNanos());
    assertThat(found.isEnded()).isTrue();
    assertThat(found.connectionKey()).isNull();
  }

  @Test
  void lateCallAfterEnd_isLinkedByHeader_bySpanIdAndByRequestId() {
    InboundRequest uuid = served(registry, ticker, RequestIdCodec.newRequestId());
    InboundRequest text = served(registry, ticker, "checkout-42");
    ticker.advance(Duration.ofSeconds(15)); // long after the grace window, within the ring

    Decision bySpan = call(uuid.context(), null);
    assertThat(bySpan.link()).isEqualTo(Link.HEADER);
    assertThat(requireNonNull(bySpan.inbound()).requestId()).isEqualTo(uuid.requestId());
    assertThat(bySpan.parent()).isEqualTo(uuid.context());

    Decision byUuid = call(null, uuid.requestId());
    assertThat(byUuid.link()).isEqualTo(Link.HEADER);
    assertThat(requireNonNull(byUuid.parent()).spanId()).isEqualTo(uuid.context().spanId());

    Decision byText = call(null, "checkout-42");
    assertThat(byText.link()).isEqualTo(Link.HEADER);
    assertThat(requireNonNull(byText.parent()).spanId()).isEqualTo(text.context().spanId());
    assertThat(requireNonNull(byText.inbound()).requestId()).isEqualTo("checkout-42");

    // Another trace with the same span id is not that request.
    TraceContext stranger =
        TraceContext.newRoot(null).toBuilder().spanId(uuid.context().spanId()).build();
    assertThat(call(stranger, null).inbound()).isNull();
    assertThat(call(null, "unknown-id").link()).isEqualTo(Link.ROOT);
    // An uppercase spelling of the UUID is another request id (ids are compared as text).
    assertThat(
            registry.findByRequestId(
                requireNonNull(uuid.requestId()).toUpperCase(java.util.Locale.ROOT)))
        .isNull();
  }

  @Test
  void fireAndForgetCallJustAfterEnd_isStillInferredByTheRule() {
    InboundRequest r = served(registry, ticker, "ff-1");
    ticker.advance(Duration.ofMillis(100)); // within the grace window

    Decision d = call(null, null);

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.inbound()).isSameAs(r); // the recent window keeps the request itself
  }

  @Test
  void endedRequest_isForgottenWithItsGeneration() {
    InboundRequest r = served(registry, ticker, "old");
    ticker.advance(PERIOD.multipliedBy(2).minusMillis(1)); // (M-1)·T after it ended, nearly
    assertThat(registry.findBySpanId(r.context().spanId())).isNotNull();
    assertThat(registry.findByRequestId("old")).isNotNull();
    ticker.advance(PERIOD.plusMillis(1)); // past M·T
    assertThat(registry.findBySpanId(r.context().spanId())).isNull();
    assertThat(registry.findByRequestId("old")).isNull();
    assertThat(registry.endedRequests().size()).isZero();
  }

  @Test
  void reusedRequestId_findsTheLatestRequest_endedOrInFlight() {
    InboundRequest first = served(registry, ticker, "dup");
    ticker.advance(Duration.ofMillis(5));
    InboundRequest second =
        registry.begin(TraceContext.newRoot("dup"), "GET /b", "dup", null, ticker.read());
    assertThat(registry.findByRequestId("dup")).isSameAs(second);
    ticker.advance(Duration.ofMillis(5));
    registry.end(second, ticker.read());
    InboundRequest latest = requireNonNull(registry.findByRequestId("dup"));
    assertThat(latest.context().spanId()).isEqualTo(second.context().spanId());
    assertThat(latest.context().spanId()).isNotEqualTo(first.context().spanId());
  }

  @Test
  void fullGenerations_refuseAndCount_whatTheStoreRefusesIsForgottenOnceEnded() {
    InboundRegistry small = registry(2);
    InboundRequest a = served(small, ticker, "a");
    InboundRequest b = served(small, ticker, "b"); // the store's generation is now full
    assertThat(small.refusedCount()).isZero();
    InboundRequest c = served(small, ticker, "c");

    assertThat(small.refusedCount()).isEqualTo(1); // c, by the store
    assertThat(small.findBySpanId(c.context().spanId())).isNull();
    assertThat(small.findByRequestId("c")).isNull();
    assertThat(small.size()).isEqualTo(2); // the rings do not keep it: they hold the unended only

    // The rings' own cap still counts requests in flight.
    InboundRequest d = small.begin(TraceContext.newRoot("d"), "GET /d", "d", null, ticker.read());
    InboundRequest e = small.begin(TraceContext.newRoot("e"), "GET /e", "e", null, ticker.read());
    InboundRequest f = small.begin(TraceContext.newRoot("f"), "GET /f", "f", null, ticker.read());
    assertThat(small.refusedCount()).isEqualTo(3); // f, by span id and by request id
    assertThat(small.findBySpanId(d.context().spanId())).isSameAs(d);
    assertThat(small.findByRequestId("e")).isSameAs(e);
    assertThat(small.findBySpanId(f.context().spanId())).isNull();
    for (InboundRequest r : List.of(a, b)) {
      assertThat(small.findBySpanId(r.context().spanId())).isNotNull();
      assertThat(small.findByRequestId(requireNonNull(r.requestId()))).isNotNull();
    }

    ticker.advance(PERIOD); // a new generation: room again
    InboundRequest g = served(small, ticker, "g");
    assertThat(small.findByRequestId("g")).isNotNull();
    assertThat(small.findBySpanId(g.context().spanId())).isNotNull();
  }

  @Test
  void growsPastItsFirstArrays_andFindsEveryRequest() {
    List<InboundRequest> all = new ArrayList<>();
    for (int i = 0; i < 700; i++) {
      all.add(served(registry, ticker, i % 2 == 0 ? RequestIdCodec.newRequestId() : "id-" + i));
    }
    for (InboundRequest r : all) {
      InboundRequest bySpan = requireNonNull(registry.findBySpanId(r.context().spanId()));
      assertThat(bySpan.requestId()).isEqualTo(r.requestId());
      InboundRequest byId = requireNonNull(registry.findByRequestId(requireNonNull(r.requestId())));
      assertThat(byId.context().spanId()).isEqualTo(r.context().spanId());
    }
  }

  /**
   * What the store keeps for an ended request holds no request-path object: only primitive arrays
   * and Strings (request id, route key, tracestate), never the request, its context, connection
   * key, exchange or the rule's state.
   */
  @Test
  void retained_holdsOnlyPrimitiveArraysAndStrings() {
    LearnedRule rule = LearnedRule.newBuilder().build();
    InboundRegistry withRule =
        InboundRegistry.newBuilder()
            .period(PERIOD)
            .capPerGeneration(1000)
            .ticker(ticker)
            .listener(rule)
            .build();
    Correlator learning = new Correlator(withRule, rule);
    for (int i = 0; i < 100; i++) {
      InboundRequest r = served(withRule, ticker, i % 2 == 0 ? "text-" + i : null);
      learning.decide(OutboundCall.newBuilder().forwardedContext(r.context()).build());
    }

    for (Object array : withRule.endedRequests().retainedArraysOfCurrentGeneration()) {
      assertThat(array.getClass().getComponentType()).isNotNull();
      if (array.getClass().getComponentType().isPrimitive()) continue;
      for (Object o : (Object[]) array) {
        if (o != null) assertThat(o).isInstanceOf(String.class);
      }
    }
  }
}
