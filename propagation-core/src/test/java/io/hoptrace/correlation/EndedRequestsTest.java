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

  @Test
  void longUndeliveredAndOddlyTimedRequests_keepTheirExactTimes() {
    long t0 = ticker.read();
    long[][] times = { // start, delivered (0: never), end
      {t0, t0 + 5_000_000_000L, t0 + 10_000_000_000L}, // longer than the 32-bit distances
      {t0, 0L, t0 + 7L}, // ended before it was delivered
      {t0, t0 + 4_000_000_000L, t0 + 4_294_967_294L}, // just fits
      {t0 + 9, t0 + 5, t0 + 3}, // a ticker that went backwards: kept as given
      {t0, t0 + 1, t0 + 4_294_967_295L}, // just does not fit
    };
    List<InboundRequest> requests = new ArrayList<>();
    for (long[] t : times) {
      InboundRequest r = registry.begin(TraceContext.newRoot(null), "GET /t", null, null, t[0]);
      if (t[1] != 0L) registry.delivered(r, t[1]);
      registry.end(r, t[2]);
      requests.add(r);
    }
    for (int i = 0; i < times.length; i++) {
      InboundRequest found =
          requireNonNull(registry.findBySpanId(requests.get(i).context().spanId()));
      assertThat(new long[] {found.startNanos(), found.deliveredNanos(), found.endNanos()})
          .as("request %d", i)
          .containsExactly(times[i]);
      assertThat(found.isDelivered()).isEqualTo(times[i][1] != 0L);
    }
  }

  @Test
  void requestIdsOfEveryShape_areFoundAfterTheyEnded() {
    List<String> ids =
        List.of(
            RequestIdCodec.newRequestId(),
            "ffffffff-ffff-ffff-ffff-ffffffffffff", // halves of all ones: a real UUID
            "ffffffff-ffff-ffff-0000-000000000000",
            "00000000-0000-0000-0000-000000000000", // all zero: kept as text
            "0AF76519-16CD-43DD-8448-EB211C80319C", // not canonical (upper case): text
            "0af7651g-16cd-43dd-8448-eb211c80319c", // a bad digit in the first half
            "0af76519-16cd-43dd-8448-eb211c80319G", // and in the second
            "0af76519x16cd-43dd-8448-eb211c80319c", // no dash where one belongs
            "req-123");
    for (String rid : ids) {
      InboundRequest r = served(registry, ticker, rid);
      InboundRequest found = registry.findByRequestId(rid);
      assertThat(found).as(rid).isNotNull();
      assertThat(found.requestId).as(rid).isEqualTo(rid);
      assertThat(found.context.spanId()).as(rid).isEqualTo(r.context.spanId());
    }
  }

  @Test
  void canonicalHexHalf_readsLowercaseDigits_orAllOnesForAnythingElse() {
    String uuid = "0af76519-16cd-43dd-8448-eb211c80319c";
    assertThat(EndedRequests.hasUuidShape(uuid)).isTrue();
    assertThat(EndedRequests.canonicalHexHalf(uuid, 0, 18))
        .isEqualTo(RequestIdCodec.uuidToTraceIdHigh(uuid));
    assertThat(EndedRequests.canonicalHexHalf(uuid, 19, 36))
        .isEqualTo(RequestIdCodec.uuidToTraceIdLow(uuid));
    assertThat(EndedRequests.canonicalHexHalf(uuid.toUpperCase(java.util.Locale.ROOT), 0, 18))
        .isEqualTo(-1L);
    assertThat(EndedRequests.canonicalHexHalf("0af7651\u00e9-16cd-43dd", 0, 18)).isEqualTo(-1L);
    assertThat(EndedRequests.hasUuidShape("0af76519-16cd-43dd-8448-eb211c80319")).isFalse();
  }

  @Test
  void rareFields_takeColumnsOnlyOnceARecordHasThem() {
    for (int i = 0; i < 10; i++) {
      TraceContext ctx = TraceContext.newRoot(null);
      String rid = RequestIdCodec.newRequestId();
      InboundRequest r = registry.begin(ctx, "GET /plain", rid, null, ticker.read());
      registry.end(r, ticker.read());
    }
    EndedRequests ended = registry.endedRequests();
    int plain = ended.retainedArraysOfCurrentGeneration().length;
    served(registry, ticker, "text-id"); // a text request id and a tracestate
    assertThat(ended.retainedArraysOfCurrentGeneration()).hasSize(plain + 2);
  }

  @Test
  void steadyRate_reusesTheDroppedGenerationsArrays_andForgetsWhatTheyHeld() {
    List<InboundRequest> first = new ArrayList<>();
    for (int i = 0; i < 100; i++) first.add(served(registry, ticker, "first-" + i));
    EndedRequests ended = registry.endedRequests();
    Object firstArrays = ended.spanIdArrayOfCurrentGeneration();
    int capacity = ended.capacityOfCurrentGeneration();
    List<InboundRequest> last = new ArrayList<>();
    for (int period = 1; period <= 3; period++) { // the third advance drops the first generation
      ticker.advance(PERIOD);
      last.clear();
      for (int i = 0; i < 100; i++) {
        // No tracestate and no request id: what the reused columns held must not show through.
        InboundRequest r = registry.begin(TraceContext.newRoot(null), "GET /p", null, null, 1L);
        registry.end(r, ticker.read());
        last.add(r);
      }
    }
    assertThat(ended.spanIdArrayOfCurrentGeneration()).isSameAs(firstArrays);
    assertThat(ended.capacityOfCurrentGeneration()).isEqualTo(capacity);
    assertThat(ended.size()).isEqualTo(300);
    for (InboundRequest r : first) {
      assertThat(registry.findBySpanId(r.context().spanId())).isNull();
      assertThat(registry.findByRequestId(requireNonNull(r.requestId()))).isNull();
    }
    for (InboundRequest r : last) { // written over the first generation's records
      InboundRequest found = requireNonNull(registry.findBySpanId(r.context().spanId()));
      assertThat(found.context().tracestate()).isNull();
      assertThat(found.requestId()).isNull();
      assertThat(found.routeKey()).isEqualTo("GET /p");
      assertThat(found.deliveredNanos()).isZero();
      assertThat(found.startNanos()).isEqualTo(1L);
    }
  }

  /**
   * A rate that fluctuates (here within ±7 %, as real traffic does from one period to the next):
   * once every generation has been made, none grows while it fills and each reuses the arrays of
   * the one it replaces, at most an eighth (and 64) over the largest period's count. Sizing a new
   * generation to exactly the last period's count grew it to 1.5x whenever the next period took
   * more, and replaced the exact-sized ones by new arrays whenever the rate rose.
   */
  @Test
  void fluctuatingRate_neverGrowsAGeneration_andReusesTheDroppedOnes() {
    int[] counts = {400, 420, 390, 425, 405, 380, 430, 410, 415, 395, 428, 400, 385, 426};
    int generations = 3;
    EndedRequests ended = registry.endedRequests();
    Object[] bySlot = new Object[generations];
    for (int period = 0; period < counts.length; period++) {
      ended.advanceIfDue(); // generations turn at the first operation of a period
      Object atStart = ended.spanIdArrayOfCurrentGeneration();
      if (period >= 2 * generations) {
        // compared as references: a failure would print two arrays of hundreds of ids
        assertThat(atStart == bySlot[period % generations])
            .as("period %d reuses the dropped arrays", period)
            .isTrue();
      }
      for (int i = 0; i < counts[period]; i++) served(registry, ticker, null);
      Object atEnd = ended.spanIdArrayOfCurrentGeneration();
      if (period >= generations) {
        assertThat(atEnd == atStart).as("period %d did not grow", period).isTrue();
      }
      assertThat(ended.capacityOfCurrentGeneration())
          .isLessThanOrEqualTo(EndedRequests.withRoom(430, 1000));
      bySlot[period % generations] = atEnd;
      ticker.advance(PERIOD.minus(Duration.ofMillis(3L * counts[period])));
    }
    assertThat(ended.size()).isEqualTo(426 + 385); // a new period began: the oldest is gone
  }

  @Test
  void afterAnIdlePeriod_largeArraysAreLetGo() {
    for (int i = 0; i < 500; i++) served(registry, ticker, null);
    EndedRequests ended = registry.endedRequests();
    assertThat(ended.capacityOfCurrentGeneration()).isGreaterThanOrEqualTo(500);
    ticker.advance(PERIOD.multipliedBy(5)); // idle: every generation dropped at once
    assertThat(ended.size()).isZero();
    assertThat(ended.capacityOfCurrentGeneration()).isZero();
    InboundRequest r = served(registry, ticker, "after-idle");
    assertThat(registry.findByRequestId("after-idle")).isNotNull();
    assertThat(registry.findBySpanId(r.context().spanId())).isNotNull();
  }

  /**
   * Threads end requests and look them up while another moves time across many periods, so that
   * generations are dropped and their arrays reused under the readers: every lookup finds the
   * request asked for (or nothing once it aged out), never another request's record.
   */
  @Test
  void endAndLookUp_acrossReusedGenerations_concurrently() throws Exception {
    InboundRegistry reg = registry(5_000);
    int threads = 3;
    int perThread = 20_000;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads + 1);
    java.util.concurrent.atomic.AtomicBoolean done =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicLong found = new java.util.concurrent.atomic.AtomicLong();
    try {
      List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        futures.add(
            pool.submit(
                () -> {
                  List<InboundRequest> mine = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    String rid = i % 3 == 0 ? RequestIdCodec.newRequestId() : "t" + id + "-" + i;
                    InboundRequest r = served(reg, ticker, rid);
                    mine.add(r);
                    InboundRequest old = mine.get(Math.max(0, i - (i % 200)));
                    InboundRequest bySpan = reg.findBySpanId(old.context().spanId());
                    if (bySpan != null) {
                      assertThat(bySpan.context().traceIdLow())
                          .isEqualTo(old.context().traceIdLow());
                      assertThat(bySpan.requestId()).isEqualTo(old.requestId());
                      found.incrementAndGet();
                    }
                    InboundRequest byId = reg.findByRequestId(requireNonNull(old.requestId()));
                    if (byId != null) {
                      assertThat(byId.context().spanId()).isEqualTo(old.context().spanId());
                    }
                  }
                  return null;
                }));
      }
      java.util.concurrent.Future<?> clock =
          pool.submit(
              () -> {
                while (!done.get()) {
                  ticker.advance(PERIOD.dividedBy(4));
                  Thread.onSpinWait();
                }
                return null;
              });
      try {
        for (java.util.concurrent.Future<?> f : futures)
          f.get(60, java.util.concurrent.TimeUnit.SECONDS);
      } finally {
        done.set(true);
      }
      clock.get(10, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(found.get()).isPositive();
  }
}
