package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CandidateRule} that learns, online and in bounded memory, how each inbound route calls
 * out, from the links that are exact ({@code header}, {@code process}, {@code sole}), and scores
 * the candidates of an inferred call by how likely each is to have made this call now.
 *
 * <p>What it learns, per inbound route (method and path with numeric segments folded to {@code
 * {}}), per call index k (the request's first, second, ... call; the 8th and later share a slot):
 *
 * <ul>
 *   <li>how often a request that made k calls goes on to make another ({@code next / atLeast}: this
 *       is what excludes requests that have already made their calls);
 *   <li>where call k goes (up to 7 destinations per route, the rest in "other");
 *   <li>the delay from delivery to call k, as a log-scale histogram (bins ×√2 from 50 µs).
 * </ul>
 *
 * Call counts come only from requests that ended without ever competing for an inferred call (their
 * calls are all known exactly); destinations and gaps from every exact link of such a request.
 * Everything decays per route (half-life {@link Builder#halfLife} requests), so a route that
 * changes its calls is followed. Routes sit in a map of at most {@link Builder#maxRoutes}; beyond
 * that new routes share an "other" bucket and, every 64 misses, the least-used route is evicted for
 * the newcomer. Memory is therefore bounded by maxRoutes x ~3.5 KB plus at most 256 background
 * destinations, whatever the app does.
 *
 * <p>Background: calls made while nothing is in flight at the app (timers, health checks) are
 * counted per destination against the time the app was idle, which gives a background rate λ(D) per
 * second.
 *
 * <p>Scoring a candidate r of route R that has made k calls, for a call to D after gap g: its rate
 * of making this call now is the hazard of its next call, {@code p·f(g) / (p·S(g) + 1 - p)} (p =
 * P(another call | k made), f and S the gap density and survival), times P(call k+1 goes to D).
 * Route statistics are shrunk towards the statistics of all routes (pseudo-count 2), so a new route
 * starts from what is typical. The posterior of r is its rate over the sum of all rates plus λ(D);
 * the best candidate is chosen unless the background is likelier, in which case the rule declines
 * (the call becomes {@code root}). That posterior is the confidence written in the score: {@code
 * learned:p=<0..1>,calls=<k>,gap_us=<g>,bg=<posterior of background>}, plus {@code ,value=<n>} when
 * the value-sharing evidence weighed in ({@link ValueSharing}: n candidates had the call's value).
 *
 * <p>Thread-safe: per-route statistics are guarded by their own monitor, held for a few hundred
 * array reads. A decision examines at most {@link Correlator#MAX_CANDIDATES} candidates.
 */
public final class LearnedRule implements CandidateRule, InboundRegistry.Listener {
  static final String NAME = "learned";
  static final int SLOTS = 8;
  static final int DESTS = 8;
  static final int BINS = 48;
  static final long BIN0_NANOS = 50_000;
  static final double SQRT2 = Math.sqrt(2);
  static final double SHRINK = 2.0;
  static final int MAX_BACKGROUND_DESTS = 256;
  static final String OTHER = "\u0000other";

  /** Index in a request's belief array of the mass of calls it has open (sent, not answered). */
  static final int OPEN = SLOTS;

  private final int maxRoutes;
  private final double growth;
  private final ConcurrentHashMap<String, Stats> routes = new ConcurrentHashMap<>();
  private final Stats all = new Stats("*");
  private final Stats other = new Stats(OTHER);
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  private final Background background;
  private final double tempering;
  private final @Nullable ValueSharing values;

  LearnedRule(Builder b) {
    this.tempering = b.tempering;
    this.values = b.valueSharing ? new ValueSharing(b.valueSlots) : null;
    this.maxRoutes = b.maxRoutes;
    this.growth = Math.pow(2, 1.0 / b.halfLife);
    this.background = new Background(b.backgroundWindowNanos);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  // ---- learning ----

  @Override
  public void learn(OutboundCall call, @Nullable InboundRequest request, Link link) {
    String dest = destinationKey(call);
    if (request == null) {
      if (link == Link.ROOT) background.call(dest);
      return;
    }
    if (values != null && request.valueTokens.length > 0) {
      // a value mapping is per call: exact even for a request that competed for other calls
      values.learn(
          routeHash(request), request.valueTokens, ValueTokens.hash(dest), callTokens(call));
    }
    double[] belief = belief(request);
    boolean parallel = false;
    if (belief != null) {
      shift(belief, null, 1.0, 0);
      synchronized (belief) {
        parallel = belief[OPEN] > 0.5;
        belief[OPEN] += 1;
      }
    }
    if (request.ambiguous || !request.isDelivered()) return;
    int k = request.linkedCalls;
    long gap = call.startNanos - request.deliveredNanos;
    int slot = Math.min(k, SLOTS - 1);
    Stats route = route(routeKey(request.routeKey), true);
    route.call(slot, dest, gap, parallel);
    if (route != all) all.call(slot, dest, gap, parallel);
  }

  @Override
  public void delivered(InboundRequest request, long nanos) {
    double[] belief = new double[SLOTS + 1];
    belief[Math.min(request.linkedCalls, SLOTS - 1)] = 1;
    request.ruleState = belief;
    background.delivered(nanos);
    if (values != null && request.valueTokens.length > 0) {
      values.delivered(routeHash(request), request.valueTokens);
    }
  }

  @Override
  public void ended(InboundRequest request, long nanos) {
    background.ended(nanos);
    if (request.ambiguous) return;
    int calls = request.linkedCalls;
    Stats route = route(routeKey(request.routeKey), true);
    route.ended(calls, growth);
    all.ended(calls, growth);
  }

  // ---- choosing ----

  @Override
  public @Nullable Choice choose(
      OutboundCall call, List<InboundRequest> candidates, long nowNanos) {
    int n = Math.min(candidates.size(), Correlator.MAX_CANDIDATES);
    if (n == 0) return null;
    String dest = destinationKey(call);
    if (allEnded(candidates, n)) return fireAndForget(call, candidates, n, dest);

    double bg = background.rate(dest, nowNanos);
    InboundRequest[] requests = new InboundRequest[n];
    double[] likelihoods = new double[n];
    double[] parts = new double[n * SLOTS]; // each candidate's likelihood, split by calls made
    double[] scratch = new double[5];
    double total = bg;
    int best = -1;
    long[] out = values == null ? ValueTokens.NONE : callTokens(call);
    long destHash = out.length == 0 ? 0 : ValueTokens.hash(dest);
    boolean[] matched = new boolean[1];
    int evidence = 0; // candidates with value evidence either way
    int matches = 0; // candidates whose value is the call's
    for (int i = 0; i < n; i++) {
      InboundRequest r = candidates.get(i);
      requests[i] = r;
      double l = r.isInFlightAtApp() ? likelihood(r, dest, nowNanos, parts, i * SLOTS, scratch) : 0;
      if (l > 0 && out.length > 0 && r.valueTokens.length > 0) {
        double f =
            requireNonNull(values).factor(routeHash(r), r.valueTokens, destHash, out, matched);
        if (f != ValueSharing.NONE) {
          evidence++;
          if (matched[0]) matches++;
          // untempered: the confidence flattens the timing model's rates, not this likelihood
          // ratio, which is measured (ρ from exact links, c from the requests' own values)
          double scale = Math.pow(f, 1 / tempering);
          l *= scale;
          for (int k = 0; k < SLOTS; k++) parts[i * SLOTS + k] *= scale;
        }
      }
      likelihoods[i] = l;
      total += l;
      if (best < 0
          || l > likelihoods[best]
          || (l == likelihoods[best] && newer(r, requests[best]))) {
        best = i;
      }
    }
    if (total <= 0) return null;
    // Soft bookkeeping: each candidate made this call with its posterior probability.
    for (int i = 0; i < n; i++) {
      double[] belief = belief(requests[i]);
      if (belief != null && likelihoods[i] > 0) {
        double q = likelihoods[i] / total;
        shift(belief, parts, q, i * SLOTS);
        synchronized (belief) {
          belief[OPEN] += q;
        }
      }
    }
    double pBackground = bg / total;
    if (pBackground >= likelihoods[best] / total) return null; // a timer or health check
    double pBest = confidence(likelihoods, n, best, bg);
    InboundRequest chosen = requests[best];
    String score =
        NAME
            + ":p="
            + formatP(pBest)
            + ",calls="
            + chosen.linkedCalls
            + ",age_us="
            + Math.max(0L, (nowNanos - chosen.deliveredNanos) / 1000)
            + ",bg="
            + formatP(pBackground)
            + (evidence > 0 ? ",value=" + matches : "");
    String valueEvidence = evidence > 0 ? "value=" + matches : null;
    return new Choice(
        chosen, score, new Alternatives(requests, likelihoods, bg, NAME, tempering, valueEvidence));
  }

  /**
   * The confidence written on the span: the posterior with every rate raised to {@code tempering}
   * (below 1 flattens it), because the model's independence assumptions make the raw posterior too
   * sure of itself; docs/accuracy.md shows the calibration with and without.
   */
  double confidence(double[] likelihoods, int n, int best, double bg) {
    if (tempering == 1.0) {
      double total = bg;
      for (int i = 0; i < n; i++) total += likelihoods[i];
      return likelihoods[best] / total;
    }
    double max = Math.max(bg, likelihoods[best]);
    double total = bg > 0 ? Math.pow(bg / max, tempering) : 0;
    for (int i = 0; i < n; i++) {
      if (likelihoods[i] > 0) total += Math.pow(likelihoods[i] / max, tempering);
    }
    return Math.pow(likelihoods[best] / max, tempering) / total;
  }

  private static double @Nullable [] belief(InboundRequest r) {
    return r.ruleState instanceof double[] b && b.length == SLOTS + 1 ? b : null;
  }

  @Override
  public void callEnded(@Nullable InboundRequest exact, @Nullable Alternatives alternatives) {
    if (exact != null) close(exact, 1.0);
    if (alternatives == null) return;
    double total = alternatives.background;
    for (double l : alternatives.likelihoods) total += l;
    if (total <= 0) return;
    for (int i = 0; i < alternatives.requests.length; i++) {
      if (alternatives.likelihoods[i] > 0) {
        close(alternatives.requests[i], alternatives.likelihoods[i] / total);
      }
    }
  }

  private static void close(InboundRequest r, double q) {
    double[] belief = belief(r);
    if (belief == null) return;
    synchronized (belief) {
      belief[OPEN] = Math.max(0, belief[OPEN] - q);
    }
  }

  /**
   * Exactly one request is in flight: is this call still background? Yes when the learned
   * background rate of its destination outweighs that request's rate of making it now.
   */
  @Override
  public boolean background(OutboundCall call, InboundRequest sole, long nowNanos) {
    String dest = destinationKey(call);
    double bg = background.rate(dest, nowNanos);
    if (bg <= 0) return false;
    return bg > likelihood(sole, dest, nowNanos);
  }

  /**
   * Moves probability {@code q} of "made one more call" through {@code belief}: from each k, in
   * proportion to {@code parts[at + k]} (how much k explains the call), or all of it one step when
   * parts is null (an exact link).
   */
  private static void shift(double[] belief, double @Nullable [] parts, double q, int at) {
    synchronized (belief) {
      double sum = 0;
      if (parts != null) for (int k = 0; k < SLOTS; k++) sum += parts[at + k];
      double[] moved = new double[SLOTS];
      for (int k = 0; k < SLOTS; k++) {
        double share = parts == null ? belief[k] : (sum > 0 ? q * parts[at + k] / sum : 0);
        moved[k] = Math.min(belief[k], share);
      }
      for (int k = 0; k < SLOTS - 1; k++) {
        belief[k] -= moved[k];
        belief[k + 1] += moved[k];
      }
    }
  }

  /**
   * Nothing in flight, some ended within the grace window. The call is counted as background
   * evidence; it goes to the most recently ended request only when its destination was never seen
   * as background before and that request's route is known to call it.
   */
  private @Nullable Choice fireAndForget(
      OutboundCall call, List<InboundRequest> candidates, int n, String dest) {
    boolean seenAsBackground = background.count(dest) > 0;
    background.call(dest);
    if (seenAsBackground) return null;
    for (int i = 0; i < n; i++) { // most recently ended first
      InboundRequest r = candidates.get(i);
      Stats route = route(routeKey(r.routeKey), false);
      if (route != null && route.callsDestination(dest)) {
        return new Choice(
            r, NAME + ":p=0.500,ended_us=" + Math.max(0L, (call.startNanos - r.endNanos) / 1000));
      }
    }
    return null;
  }

  /** The rate (per second) at which {@code r} makes a call to {@code dest} now. */
  double likelihood(InboundRequest r, String dest, long nowNanos) {
    return likelihood(r, dest, nowNanos, new double[SLOTS], 0, new double[5]);
  }

  /**
   * The rate at which {@code r} makes a call to {@code dest} now: over what it may have made so far
   * (its belief), P(made k) x hazard of call k+1 at its age x P(call k+1 goes to dest). Each term
   * goes to {@code parts[at + k]}.
   */
  private double likelihood(
      InboundRequest r, String dest, long nowNanos, double[] parts, int at, double[] g) {
    long age = nowNanos - r.deliveredNanos;
    Stats route = route(routeKey(r.routeKey), false);
    double[] belief = belief(r);
    double open = 0;
    if (belief != null) {
      synchronized (belief) {
        open = Math.min(1, belief[OPEN]);
      }
    }
    double total = 0;
    for (int k = 0; k < SLOTS; k++) {
      double pk;
      if (belief != null) {
        synchronized (belief) {
          pk = belief[k];
        }
      } else {
        pk = k == Math.min(r.linkedCalls, SLOTS - 1) ? 1 : 0;
      }
      if (pk < 1e-6) {
        parts[at + k] = 0;
        continue;
      }
      all.estimate(k, dest, age, null, g);
      if (route != null) route.estimate(k, dest, age, g, g);
      double pMore = g[0];
      double hazard = pMore * g[2] / (pMore * g[3] + (1 - pMore));
      // a call while another is still open happens only on routes that fan out, and vice versa
      double parallel = g[4];
      double overlap = open * parallel + (1 - open) * (1 - parallel);
      double term = pk * hazard * g[1] * overlap;
      parts[at + k] = term;
      total += term;
    }
    return total;
  }

  private static boolean allEnded(List<InboundRequest> candidates, int n) {
    for (int i = 0; i < n; i++) if (!candidates.get(i).isEnded()) return false;
    return true;
  }

  private static boolean newer(InboundRequest a, InboundRequest b) {
    return a.deliveredNanos - b.deliveredNanos > 0;
  }

  // ---- bounded route table ----

  private @Nullable Stats route(String key, boolean create) {
    Stats s = routes.get(key);
    if (s != null) {
      s.uses++;
      return s;
    }
    if (!create) return null;
    if (routes.size() < maxRoutes) {
      Stats fresh = new Stats(key);
      Stats raced = routes.putIfAbsent(key, fresh);
      return raced != null ? raced : fresh;
    }
    if (misses.incrementAndGet() % 64 == 0) return evictFor(key);
    return other;
  }

  /** Every 64 misses: halve all use counts and evict the least used route for the newcomer. */
  private synchronized Stats evictFor(String key) {
    Stats victim = null;
    for (Stats s : routes.values()) {
      if (victim == null || s.uses < victim.uses) victim = s;
      s.uses >>= 1;
    }
    if (victim != null && routes.remove(victim.key, victim)) evictions.incrementAndGet();
    Stats fresh = new Stats(key);
    Stats raced = routes.putIfAbsent(key, fresh);
    return raced != null ? raced : fresh;
  }

  /** Routes held (at most maxRoutes). */
  public int routeCount() {
    return routes.size();
  }

  /** Routes evicted to make room for new ones. */
  public long evictions() {
    return evictions.get();
  }

  /** Background destinations held (at most 256). */
  public int backgroundDestinationCount() {
    return background.size();
  }

  /** The learned background rate of calls to {@code dest} (per second), for tests and metrics. */
  double backgroundRate(String dest, long nowNanos) {
    return background.rate(dest, nowNanos);
  }

  // ---- keys ----

  /** The value tokens of an outbound call's path and query. */
  static long[] callTokens(OutboundCall call) {
    return ValueTokens.of(call.path, call.query);
  }

  /** The 64-bit hash of a request's folded route key, for the value-sharing table. */
  static long routeHash(InboundRequest r) {
    return ValueTokens.hash(routeKey(r.routeKey));
  }

  /** Whether the value-sharing evidence is on (the registry must then keep value tokens). */
  public boolean valueSharing() {
    return values != null;
  }

  /** (route, destination) pairs the value-sharing learner holds, for tests and metrics. */
  int valueEntries() {
    return values == null ? 0 : values.size();
  }

  @Nullable ValueSharing values() {
    return values;
  }

  /** {@code GET /orders/42} → {@code GET /orders/{}}: path segments with a digit fold together. */
  static String routeKey(String raw) {
    int slash = raw.indexOf('/');
    if (slash < 0 || !hasDigit(raw, slash)) return raw;
    StringBuilder b = new StringBuilder(raw.length());
    b.append(raw, 0, slash);
    foldPath(raw, slash, raw.length(), b);
    return b.toString();
  }

  private static void foldPath(String s, int from, int to, StringBuilder b) {
    int i = from;
    while (i < to) {
      int end = s.indexOf('/', i + 1);
      if (end < 0 || end > to) end = to;
      b.append('/');
      if (hasDigit(s, i + 1, end)) {
        b.append("{}");
      } else {
        b.append(s, i + 1, end);
      }
      i = end;
    }
  }

  /** {@code authority method path}, the path without scheme, query and numeric segments. */
  static String destinationKey(OutboundCall call) {
    String path = call.path;
    int start = 0;
    int scheme = path.indexOf("://");
    if (scheme > 0 && scheme < 8) {
      int slash = path.indexOf('/', scheme + 3);
      start = slash < 0 ? path.length() : slash;
    }
    int q = path.indexOf('?', start);
    int end = q < 0 ? path.length() : q;
    StringBuilder b = new StringBuilder(call.authority.length() + call.method.length() + 2 + end);
    b.append(call.authority).append(' ').append(call.method).append(' ');
    if (start < end && path.charAt(start) == '/') {
      foldPath(path, start, end, b);
    } else {
      b.append(path, start, end);
    }
    return b.toString();
  }

  private static boolean hasDigit(String s, int from) {
    return hasDigit(s, from, s.length());
  }

  private static boolean hasDigit(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') return true;
    }
    return false;
  }

  /** {@code p} with three decimals, e.g. {@code 0.834}: the confidence in score tags. */
  static String formatP(double p) {
    long m = Math.round(Math.max(0, Math.min(1, p)) * 1000);
    if (m >= 1000) return "1.000";
    String digits = Long.toString(m);
    return "0." + "000".substring(digits.length()) + digits;
  }

  static int bin(long gapNanos) {
    if (gapNanos < BIN0_NANOS) return 0;
    int b = 1 + (int) Math.floor(2 * (Math.log((double) gapNanos / BIN0_NANOS) / Math.log(2)));
    return Math.min(b, BINS - 1);
  }

  /** Width of bin {@code b} in seconds. */
  static double binWidthSeconds(int b) {
    double lo = b == 0 ? 0 : BIN0_NANOS * Math.pow(SQRT2, b - 1);
    double hi = BIN0_NANOS * Math.pow(SQRT2, b);
    return (hi - lo) / 1e9;
  }

  private static final double[] WIDTHS = new double[BINS];

  static {
    for (int b = 0; b < BINS; b++) WIDTHS[b] = binWidthSeconds(b);
  }

  @Override
  public String toString() {
    return "LearnedRule(routes=" + routes.size() + ")";
  }

  /** What one route (or all routes) does, decayed. Guarded by its monitor. */
  static final class Stats {
    final String key;
    long uses; // a racy hint for eviction: a lost increment costs nothing
    private double weight = 1;
    private final double[] atLeast = new double[SLOTS];
    private final double[] next = new double[SLOTS];
    private final String[] destKeys = new String[DESTS - 1];
    private final double[][] dest = new double[SLOTS][DESTS];
    private final double[] destTotal = new double[SLOTS];
    private final double[] parallel = new double[SLOTS];
    private final double[][] gap = new double[SLOTS][BINS];
    private final double[] gapTotal = new double[SLOTS];

    Stats(String key) {
      this.key = key;
    }

    synchronized void call(int slot, String destination, long gapNanos, boolean whileOpen) {
      int d = destSlot(destination, true);
      if (whileOpen) parallel[slot] += weight;
      dest[slot][d] += weight;
      destTotal[slot] += weight;
      int b = bin(Math.max(0, gapNanos));
      // a little kernel smoothing: neighbours are within a factor √2
      gap[slot][b] += weight;
      if (b > 0) gap[slot][b - 1] += 0.25 * weight;
      if (b < BINS - 1) gap[slot][b + 1] += 0.25 * weight;
      gapTotal[slot] += weight * (1 + (b > 0 ? 0.25 : 0) + (b < BINS - 1 ? 0.25 : 0));
    }

    synchronized void ended(int calls, double growth) {
      int exact = Math.min(calls, SLOTS - 1);
      for (int k = 0; k < exact; k++) {
        atLeast[k] += weight;
        next[k] += weight;
      }
      if (calls < SLOTS - 1) {
        atLeast[calls] += weight; // made `calls`, then stopped
      } else {
        // the last slot stands for every k >= SLOTS-1: (calls - 7) continuations, one stop
        double extra = calls - (SLOTS - 1);
        atLeast[SLOTS - 1] += weight * (extra + 1);
        next[SLOTS - 1] += weight * extra;
      }
      weight *= growth; // older samples weigh less: the decay
      if (weight > 1e9) rescale();
    }

    private void rescale() {
      double f = 1 / weight;
      for (int s = 0; s < SLOTS; s++) {
        atLeast[s] *= f;
        next[s] *= f;
        destTotal[s] *= f;
        parallel[s] *= f;
        gapTotal[s] *= f;
        for (int d = 0; d < DESTS; d++) dest[s][d] *= f;
        for (int b = 0; b < BINS; b++) gap[s][b] *= f;
      }
      weight = 1;
    }

    synchronized boolean callsDestination(String destination) {
      int d = destSlot(destination, false);
      if (d < 0) return false;
      for (int s = 0; s < SLOTS; s++) if (dest[s][d] > 0) return true;
      return false;
    }

    private int destSlot(String destination, boolean create) {
      for (int d = 0; d < DESTS - 1; d++) {
        String k = destKeys[d];
        if (k == null) {
          if (!create) return -1;
          destKeys[d] = destination;
          return d;
        }
        if (k.equals(destination)) return d;
      }
      return create ? DESTS - 1 : -1;
    }

    /**
     * Writes {p(more), p(dest), gap density (per s), gap survival, p(made while another call is
     * open)} into {@code out}. With {@code prior} null these are this Stats' own estimates with
     * weak uniform priors; otherwise they are shrunk towards {@code prior} with pseudo-count {@link
     * #SHRINK} (prior may alias out).
     */
    synchronized void estimate(
        int slot, String destination, long gapNanos, double @Nullable [] prior, double[] out) {
      double m = prior == null ? 1.0 : SHRINK;
      double pMore0 = prior == null ? 0.5 : prior[0];
      double pMore = (next[slot] + m * pMore0) / (atLeast[slot] + m);

      int d = destSlot(destination, false);
      if (d < 0 && destKeys[DESTS - 2] != null) d = DESTS - 1; // full: the "other" slot
      double count = d < 0 ? 0 : dest[slot][d];
      double pDest0 = prior == null ? 1.0 / DESTS : prior[1];
      double pDest = (count + m * pDest0) / (destTotal[slot] + m);

      int b = bin(Math.max(0, gapNanos));
      double[] h = gap[slot];
      double total = gapTotal[slot];
      double frac;
      double above = 0;
      if (prior == null) {
        double floor = 0.02; // a whisper of every delay, so nothing is impossible
        frac = (h[b] + floor) / (total + floor * BINS);
        for (int i = b + 1; i < BINS; i++) above += h[i] + floor;
        above /= total + floor * BINS;
      } else {
        // the prior's fraction in bin b is its density times the width
        double priorFrac = prior[2] * WIDTHS[b];
        frac = (h[b] + m * priorFrac) / (total + m);
        double hAbove = 0;
        for (int i = b + 1; i < BINS; i++) hAbove += h[i];
        above = (hAbove + m * (prior[3] - 0.5 * priorFrac)) / (total + m);
      }
      double pParallel0 = prior == null ? 0.5 : prior[4];
      double pParallel = (parallel[slot] + m * pParallel0) / (destTotal[slot] + m);
      out[0] = pMore;
      out[1] = pDest;
      out[2] = frac / WIDTHS[b];
      out[3] = Math.max(1e-9, above + 0.5 * frac);
      out[4] = Math.max(0.01, Math.min(0.99, pParallel));
    }
  }

  /** Calls per destination made while nothing was in flight, against the idle time. */
  static final class Background {
    private final long windowNanos;
    private final Map<String, double[]> counts = new HashMap<>();
    private int inFlight;
    private long idleSince; // 0: not idle, or not known yet
    private double idleNanos;

    Background(long windowNanos) {
      this.windowNanos = windowNanos;
    }

    synchronized void delivered(long nanos) {
      if (inFlight++ == 0 && idleSince != 0) idleNanos += nanos - idleSince;
      idleSince = 0;
      if (idleNanos > windowNanos) halve();
    }

    synchronized void ended(long nanos) {
      if (--inFlight <= 0) {
        inFlight = 0;
        idleSince = nanos;
      }
    }

    synchronized void call(String dest) {
      double[] c = counts.get(dest);
      if (c == null) {
        if (counts.size() >= MAX_BACKGROUND_DESTS) {
          c = counts.computeIfAbsent(OTHER, k -> new double[1]);
        } else {
          c = new double[1];
          counts.put(dest, c);
        }
      }
      c[0]++;
    }

    synchronized double count(String dest) {
      double[] c = counts.get(dest);
      return c == null ? 0 : c[0];
    }

    /** Calls per second to {@code dest} while idle; 0 until some idle time was seen. */
    synchronized double rate(String dest, long nowNanos) {
      double[] c = counts.get(dest);
      if (c == null || c[0] == 0) return 0;
      double idle = idleNanos + (inFlight == 0 && idleSince != 0 ? nowNanos - idleSince : 0);
      // At least one second of idle time in the denominator: a call seen after a blink of idleness
      // says little about how often it happens.
      return c[0] / Math.max(1.0, idle / 1e9);
    }

    synchronized int size() {
      return counts.size();
    }

    private void halve() {
      idleNanos /= 2;
      for (double[] c : counts.values()) c[0] /= 2;
    }
  }

  /** Builds a {@link LearnedRule}; {@link #build()} checks the settings. */
  public static final class Builder {
    int maxRoutes = 1024;
    int halfLife = 200;
    long backgroundWindowNanos = 600_000_000_000L;
    double tempering = 0.45;
    boolean valueSharing = true;
    int valueSlots = 1024;

    Builder() {}

    /**
     * Whether inbound values that reappear in outbound calls count as evidence (default true; see
     * {@link ValueSharing}). The registry must keep value tokens for it to see any.
     */
    public Builder valueSharing(boolean valueSharing) {
      this.valueSharing = valueSharing;
      return this;
    }

    /** How many (route, destination) pairs the value-sharing learner holds (a power of two). */
    public Builder valueSlots(int valueSlots) {
      this.valueSlots = valueSlots;
      return this;
    }

    /**
     * The exponent that flattens the confidence (default 0.45, from the calibration tables in
     * docs/accuracy.md; 1 = the raw posterior).
     */
    public Builder tempering(double tempering) {
      this.tempering = tempering;
      return this;
    }

    /** The most routes learned separately (default 1024); others share one bucket. */
    public Builder maxRoutes(int maxRoutes) {
      this.maxRoutes = maxRoutes;
      return this;
    }

    /** After this many requests of a route, older ones weigh half (default 200). */
    public Builder halfLife(int halfLife) {
      this.halfLife = halfLife;
      return this;
    }

    /** Idle time after which background counts are halved (default 10 min). */
    public Builder backgroundWindow(java.time.Duration window) {
      this.backgroundWindowNanos = requireNonNull(window, "window").toNanos();
      return this;
    }

    public LearnedRule build() {
      if (maxRoutes < 1 || maxRoutes > 1 << 20) {
        throw new IllegalArgumentException("maxRoutes: " + maxRoutes + " (expected: 1..1048576)");
      }
      if (!(tempering > 0 && tempering <= 1)) {
        throw new IllegalArgumentException("tempering: " + tempering + " (expected: (0, 1])");
      }
      if (halfLife < 1) {
        throw new IllegalArgumentException("halfLife: " + halfLife + " (expected: >= 1)");
      }
      if (valueSlots < 1 || valueSlots > 1 << 20 || Integer.bitCount(valueSlots) != 1) {
        throw new IllegalArgumentException(
            "valueSlots: " + valueSlots + " (expected: a power of two, 1..1048576)");
      }
      if (backgroundWindowNanos <= 0) {
        throw new IllegalArgumentException("backgroundWindow: must be positive");
      }
      return new LearnedRule(this);
    }
  }
}
