package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.context.TraceContext;
import io.hoptrace.store.ManualTicker;
import java.time.Duration;
import java.util.Random;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The learned rule's value-sharing evidence on synthetic event streams (a ManualTicker drives the
 * time): which inbound value reappears where in the calls, learned from exact links, and used to
 * pick among several requests in flight whose timing says nothing.
 */
class ValueSharingTest {
  static final String B = "b:80";
  static final String C = "c:80";

  final ManualTicker ticker = new ManualTicker();
  LearnedRule rule = LearnedRule.newBuilder().build();
  InboundRegistry registry = registry(rule, true);
  Correlator correlator = new Correlator(registry, rule);
  final Random random = new Random(11);

  InboundRegistry registry(LearnedRule listener, boolean valueTokens) {
    return InboundRegistry.newBuilder()
        .generations(3)
        .period(Duration.ofSeconds(1000))
        .capPerGeneration(1 << 20)
        .grace(Duration.ofMillis(1))
        .ticker(ticker)
        .listener(listener)
        .valueTokens(valueTokens)
        .build();
  }

  void use(LearnedRule r) {
    rule = r;
    registry = registry(r, true);
    correlator = new Correlator(registry, r);
  }

  InboundRequest deliver(String route, @Nullable String query) {
    InboundRequest r =
        registry.begin(TraceContext.newRoot(null), route, null, null, ticker.read(), query);
    registry.delivered(r, ticker.read());
    return r;
  }

  Decision call(String authority, String pathAndQuery) {
    int q = pathAndQuery.indexOf('?');
    return correlator.decide(
        OutboundCall.newBuilder()
            .authority(authority)
            .method("GET")
            // the way a forward proxy sees it: absolute form, the query apart
            .path("http://" + authority + (q < 0 ? pathAndQuery : pathAndQuery.substring(0, q)))
            .query(q < 0 ? null : pathAndQuery.substring(q + 1))
            .startNanos(ticker.read())
            .build());
  }

  void millis(double ms) {
    ticker.advance((long) (ms * 1_000_000));
  }

  String id() {
    return Integer.toString(100_000 + random.nextInt(50_000));
  }

  /** {@code n} orders alone at the app, each calling b /stock/{id} and c /price?sku={id}. */
  void trainOrders(int n) {
    for (int i = 0; i < n; i++) {
      String id = id();
      InboundRequest r = deliver("GET /orders/" + id, "gt=" + Long.toHexString(random.nextLong()));
      millis(2);
      assertThat(call(B, "/stock/" + id + "?gt=" + Long.toHexString(random.nextLong())).link())
          .isEqualTo(Link.SOLE);
      millis(2);
      assertThat(call(C, "/price?sku=" + id).link()).isEqualTo(Link.SOLE);
      millis(1);
      registry.end(r, ticker.read());
      millis(20);
    }
  }

  static double p(Decision d) {
    String score = requireNonNull(d.score());
    int i = score.indexOf("p=");
    return Double.parseDouble(score.substring(i + 2, i + 7));
  }

  @Test
  void tokens_foldedPathSegmentsAndQueryValues_notLiteralsOrShortValues() {
    long[] in = ValueTokens.of("/orders/100042/lines", "page=1&sku=abc-widget&x=");
    assertThat(in).hasSize(4); // segment 1 (100042) and sku; not "orders", "lines", page=1, x=
    long[] out = ValueTokens.of("http://b:80/stock/100042", null);
    assertThat(ValueTokens.valueAt(out, 2)).isEqualTo(ValueTokens.valueAt(in, 2)).isNotZero();
    long[] query = ValueTokens.of("http://c:80/price?sku=abc-widget", null);
    assertThat(query).hasSize(2);
    assertThat(query[1]).isEqualTo(in[3]);
    assertThat(ValueTokens.of("/", null)).isEmpty();
    assertThat(ValueTokens.of("b:443", null)).hasSize(2); // a CONNECT target: harmless
    StringBuilder many = new StringBuilder("/x");
    for (int i = 0; i < 50; i++) many.append("/s").append(i).append("00");
    assertThat(ValueTokens.of(many.toString(), null)).hasSize(2 * ValueTokens.MAX);
  }

  @Test
  void choose_theCallCarriesOneCandidatesId_picksIt_whereTimingCannotTell() {
    trainOrders(30);
    InboundRequest a = deliver("GET /orders/111111", null);
    InboundRequest b = deliver("GET /orders/222222", null);
    InboundRequest c = deliver("GET /orders/333333", null);
    millis(2); // all three are 2 ms in: timing alone is a coin toss

    Decision d = call(B, "/stock/222222");

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.inbound()).isSameAs(b);
    assertThat(d.score()).contains(",value=1");
    assertThat(p(d)).isGreaterThan(0.99);
    // the query position too: ?sku= carries the order id
    Decision price = call(C, "/price?sku=111111");
    assertThat(price.inbound()).isSameAs(a);
    assertThat(price.score()).contains(",value=1");
    assertThat(c.linkedCalls()).isZero();
  }

  @Test
  void choose_twoCandidatesShareTheId_itOnlyNarrowsTheSet() {
    trainOrders(30);
    InboundRequest a = deliver("GET /orders/222222", null);
    InboundRequest b = deliver("GET /orders/222222", null);
    InboundRequest c = deliver("GET /orders/333333", null);
    millis(2);

    Decision d = call(B, "/stock/222222");

    assertThat(d.inbound()).isIn(a, b);
    assertThat(d.score()).contains(",value=2");
    assertThat(p(d)).isBetween(0.4, 0.6); // a coin toss between the two, c ruled out
    assertThat(c.linkedCalls()).isZero();
  }

  @Test
  void choose_aCallWithNoId_fallsBackToTiming_noValueInTheScore() {
    trainOrders(30);
    for (int i = 0; i < 30; i++) { // browse calls b /catalog, no id anywhere
      InboundRequest r = deliver("GET /browse", null);
      millis(2);
      call(B, "/catalog");
      millis(1);
      registry.end(r, ticker.read());
      millis(20);
    }
    deliver("GET /orders/111111", null);
    deliver("GET /browse", null);
    millis(2);

    Decision d = call(B, "/catalog");

    assertThat(d.link()).isEqualTo(Link.INFERRED);
    assertThat(d.score()).doesNotContain("value=");
  }

  @Test
  void choose_theIdMatchesNoOrder_rulesTheOrdersOut() {
    trainOrders(30);
    for (int i = 0; i < 30; i++) { // a cart calls b /stock/{some item}: its own id, not carried
      InboundRequest r = deliver("GET /users/u" + id() + "/cart", null);
      millis(2);
      call(B, "/stock/" + id());
      millis(1);
      registry.end(r, ticker.read());
      millis(20);
    }
    deliver("GET /orders/111111", null);
    deliver("GET /orders/222222", null);
    InboundRequest cart = deliver("GET /users/u123456/cart", null);
    millis(2);

    Decision d = call(B, "/stock/999999");

    assertThat(d.inbound()).isSameAs(cart);
    assertThat(d.score()).contains(",value=0");
  }

  @Test
  void refine_keepsTheValueEvidenceInTheScore() {
    trainOrders(30);
    InboundRequest a = deliver("GET /orders/111111", null);
    InboundRequest b = deliver("GET /orders/222222", null);
    millis(2);
    Decision d = call(B, "/stock/222222");
    millis(1);
    registry.end(a, ticker.read()); // ended while the call was open: refine rules it out
    millis(1);

    Decision refined = correlator.refine(d, ticker.read());

    assertThat(refined.inbound()).isSameAs(b);
    assertThat(refined.score()).contains("refined=1").endsWith(",value=1");
  }

  @Test
  void refine_movedOffTheRequestTheValueNamed_dropsTheEvidence() {
    trainOrders(30);
    InboundRequest a = deliver("GET /orders/111111", null);
    InboundRequest b = deliver("GET /orders/222222", null);
    millis(2);
    Decision d = call(B, "/stock/222222");
    assertThat(d.inbound()).isSameAs(b);
    millis(1);
    registry.end(b, ticker.read()); // the request it named cannot have made a call still open
    millis(1);

    Decision refined = correlator.refine(d, ticker.read());

    assertThat(refined.inbound()).isSameAs(a);
    assertThat(refined.score()).contains("refined=1").doesNotContain("value=");
  }

  @Test
  void baseRate_aValueManyRequestsCarry_provesLittle() {
    ValueSharing values = requireNonNull(rule.values());
    for (int i = 0; i < 400; i++) {
      // half the lists ask for page 100, the rest for rare pages
      String page = i % 2 == 0 ? "100" : Integer.toString(1000 + i);
      InboundRequest r = deliver("GET /list", "page=" + page);
      millis(1);
      registry.end(r, ticker.read());
    }
    long route = ValueTokens.hash("GET /list");
    long[] common = ValueTokens.of("/list", "page=100");
    long[] rare = ValueTokens.of("/list", "page=1003");

    assertThat(values.baseRate(route, common[0], common[1])).isBetween(0.4, 0.6);
    assertThat(values.baseRate(route, rare[0], rare[1])).isLessThan(0.02);
  }

  @Test
  void drift_theRouteStopsCarryingTheId_theEvidenceFades() {
    trainOrders(30);
    long route = ValueTokens.hash("GET /orders/{}");
    long dest = ValueTokens.hash("c:80 GET /price");
    ValueSharing values = requireNonNull(rule.values());
    assertThat(values.reliability(route, dest)).isGreaterThan(0.95);

    for (int i = 0; i < 60; i++) { // now /price gets some other sku
      InboundRequest r = deliver("GET /orders/" + id(), null);
      millis(2);
      call(C, "/price?sku=" + id());
      millis(1);
      registry.end(r, ticker.read());
      millis(20);
    }

    assertThat(values.reliability(route, dest)).isLessThan(ValueSharing.MIN_RELIABILITY);
    deliver("GET /orders/111111", null);
    deliver("GET /orders/222222", null);
    millis(2);
    assertThat(call(C, "/price?sku=111111").score()).doesNotContain("value=");
  }

  @Test
  void opaqueIds_thatNeverReappear_learnNothing() {
    for (int i = 0; i < 200; i++) { // the testbed's gt: a fresh random id on every hop
      InboundRequest r = deliver("GET /front", "gt=" + Long.toHexString(random.nextLong()));
      millis(2);
      call(B, "/b?gt=" + Long.toHexString(random.nextLong()));
      millis(1);
      registry.end(r, ticker.read());
      millis(5);
    }
    assertThat(rule.valueEntries()).isZero();
  }

  @Test
  void hostileApp_millionsOfRoutesAndPositions_memoryStaysBounded() {
    use(LearnedRule.newBuilder().maxRoutes(64).valueSlots(256).build());
    ValueSharing values = requireNonNull(rule.values());
    trainOrders(40);
    for (int i = 0; i < 200_000; i++) {
      // every request a new route, new query names, and an id the call carries (a hit each)
      String id = Integer.toString(100_000 + i);
      InboundRequest r = deliver("GET /r" + i + "x/" + id, "q" + i + "=" + id + "&k" + i + "=zz9");
      ticker.advance(1000);
      call(B, "/t" + i + "y/" + id + "?v" + i + "=" + id);
      ticker.advance(1000);
      registry.end(r, ticker.read());
    }

    assertThat(values.size()).isLessThanOrEqualTo(256);
    assertThat(rule.routeCount()).isLessThanOrEqualTo(64);
    // and what it knows is relearned once the flood stops
    trainOrders(10);
    InboundRequest a = deliver("GET /orders/111111", null);
    deliver("GET /orders/222222", null);
    millis(2);
    assertThat(call(B, "/stock/111111").inbound()).isSameAs(a);
  }

  @Test
  void off_noValueEvidence_andTheRegistryKeepsNoTokens() {
    use(LearnedRule.newBuilder().valueSharing(false).build());
    registry = registry(rule, false);
    correlator = new Correlator(registry, rule);
    trainOrders(30);
    InboundRequest a = deliver("GET /orders/111111", null);
    deliver("GET /orders/222222", null);
    millis(2);

    assertThat(a.valueTokens).isEmpty();
    assertThat(call(B, "/stock/111111").score()).doesNotContain("value=");
    assertThat(rule.valueEntries()).isZero();
  }

  @Test
  void builder_badSlots_clearError() {
    assertThatThrownBy(() -> LearnedRule.newBuilder().valueSlots(1000).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("valueSlots: 1000 (expected: a power of two");
  }
}
