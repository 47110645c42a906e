package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Decides, for each outbound call of the app, which inbound request caused it and how certain that
 * is (the {@code hoptrace.link} tag). No I/O; thread-safe; bounded work per call.
 *
 * <p>The order, most certain first:
 *
 * <ol>
 *   <li>{@link Link#HEADER}: the app forwarded a context or request id. A forwarded context is
 *       always continued: when its span id (and trace id) is a known SERVER span, that request is
 *       the cause and its SERVER context the parent (it carries the request id); otherwise it is a
 *       span of the app's own tracer and is itself the parent, the cause being the request whose id
 *       was forwarded, if known, else none (still HEADER). A request id alone links only if it is
 *       known.
 *   <li>{@link Link#SOLE}: exactly one inbound request is in flight at the app (delivered, not
 *       ended). Found in O(1) in the synchronous case.
 *   <li>{@link Link#INFERRED}: several are in flight (at most {@link #MAX_CANDIDATES} are
 *       examined), or none is but some ended within the grace window (fire-and-forget); the {@link
 *       CandidateRule} chooses and its score is recorded.
 *   <li>{@link Link#ROOT}: none in flight or recent (or the rule declined): a new trace.
 * </ol>
 *
 * <p>{@code decide} also records the link: the chosen request's {@link
 * InboundRequest#linkedCalls()} goes up by one, which the default rule uses.
 *
 * <p>Between the sole and the inferred step, a {@link CandidateFilter} (the proxy's socket
 * ownership from /proc) may narrow the in-flight candidates: to exactly one ({@link Link#PROCESS},
 * exact), or to a smaller set the rule then chooses from ({@link Link#INFERRED}, with {@code
 * candidates} the smaller count and {@link Decision#inFlight()} the full one). It is asked only on
 * the inferred path, so the header and sole paths never pay for it.
 */
public final class Correlator {
  /** The most inbound requests a decision examines: bounds the work when many are in flight. */
  public static final int MAX_CANDIDATES = 64;

  private final InboundRegistry registry;
  private final CandidateRule rule;
  private final CandidateFilter filter;

  public Correlator(InboundRegistry registry, CandidateRule rule) {
    this(registry, rule, CandidateFilter.NONE);
  }

  /** With evidence that narrows the in-flight candidates before {@code rule} chooses. */
  public Correlator(InboundRegistry registry, CandidateRule rule, CandidateFilter filter) {
    this.registry = requireNonNull(registry, "registry");
    this.rule = requireNonNull(rule, "rule");
    this.filter = requireNonNull(filter, "filter");
  }

  /** With the default {@link FewestCallsRule}. */
  public Correlator(InboundRegistry registry) {
    this(registry, FewestCallsRule.INSTANCE);
  }

  public InboundRegistry registry() {
    return registry;
  }

  public CandidateRule rule() {
    return rule;
  }

  /** Links {@code call} to its cause. Never throws for any call the proxy can build. */
  public Decision decide(OutboundCall call) {
    return requireNonNull(decide(call, true));
  }

  /**
   * As {@link #decide}, but returns null, having recorded nothing, when the decision would ask the
   * {@link CandidateFilter} (which may block): an I/O thread decides the header, sole and root
   * cases itself and hands only the rest to a worker thread, which then calls {@link #decide}.
   */
  public @Nullable Decision decideWithoutBlocking(OutboundCall call) {
    return decide(call, false);
  }

  private @Nullable Decision decide(OutboundCall call, boolean mayBlock) {
    requireNonNull(call, "call");
    Decision byHeader = byHeader(call);
    if (byHeader != null) return byHeader;

    int inFlight = registry.inFlightCount();
    if (inFlight == 1) {
      InboundRequest sole = registry.soleInFlight();
      if (sole != null) return sole(call, sole);
    }
    if (inFlight >= 1) { // also when the count raced: the walk says what is really there
      List<InboundRequest> candidates = registry.inFlight(MAX_CANDIDATES);
      if (candidates.size() == 1) return sole(call, candidates.get(0));
      if (candidates.size() > 1) {
        int count = Math.max(inFlight, candidates.size()); // the walk stops at MAX_CANDIDATES
        if (!mayBlock && filter != CandidateFilter.NONE) return null;
        CandidateFilter.Narrowing narrowed = filter.narrow(call, candidates);
        if (narrowed != null) {
          InboundRequest exact = narrowed.exact();
          if (exact != null)
            return learnedAndLinked(call, Link.PROCESS, exact, exact.context, count);
          List<InboundRequest> subset = narrowed.candidates();
          return inferred(call, subset, subset.size()).withInFlight(count);
        }
        return inferred(call, candidates, count);
      }
    }
    List<InboundRequest> recent = registry.recentlyFinished(call.startNanos, MAX_CANDIDATES);
    if (!recent.isEmpty()) return inferred(call, recent, 0);
    rule.learn(call, null, Link.ROOT);
    return Decision.root(0);
  }

  /**
   * Tells the rule about a link the proxy decided exactly by itself ({@link Link#PROCESS}) and
   * records it, as {@link #decide} does for its own exact links.
   */
  public void learn(OutboundCall call, InboundRequest request, Link link) {
    requireNonNull(call, "call");
    requireNonNull(request, "request");
    requireNonNull(link, "link");
    rule.learn(call, request, link);
    record(request, call.startNanos);
  }

  /**
   * Decides again when the call has ended, with what is known by then: a synchronous call cannot
   * belong to a request that ended before it, so such candidates are ruled out and the others
   * re-weighed. Only decisions that carry the rule's {@link CandidateRule.Alternatives} change (the
   * learned rule's); the linked-call credit moves to the new choice. Returns {@code decision}
   * itself when nothing changes. The CLIENT span keeps its own id (the callee already has it as its
   * parent), only its parent and trace change.
   */
  public Decision refine(Decision decision, long endNanos) {
    requireNonNull(decision, "decision");
    CandidateRule.Alternatives alt = decision.alternatives;
    if (decision.link != Link.INFERRED) {
      if (decision.inbound != null) rule.callEnded(decision.inbound, null);
      return decision;
    }
    if (alt != null) rule.callEnded(null, alt);
    // A fire-and-forget pick (nothing was in flight) chose among ended requests on purpose.
    if (alt == null || decision.candidates == 0) return decision;
    double total = alt.background;
    int best = -1;
    double bestLikelihood = -1;
    int excluded = 0;
    boolean[] out = new boolean[alt.requests.length];
    for (int i = 0; i < alt.requests.length; i++) {
      InboundRequest r = alt.requests[i];
      if (r.isEnded() && r.endNanos - endNanos < 0) { // ended while the call was still open
        excluded++;
        out[i] = true;
        continue;
      }
      double l = alt.likelihoods[i];
      total += l;
      if (l > bestLikelihood) {
        bestLikelihood = l;
        best = i;
      }
    }
    if (excluded == 0 || best < 0 || total <= 0) return decision;
    double p = confidence(alt, out, bestLikelihood);
    InboundRequest chosen = alt.requests[best];
    // the evidence named the request it had chosen; moved off it, the span no longer claims it
    boolean kept = chosen == decision.inbound && alt.evidence != null;
    String score =
        alt.ruleName
            + ":p="
            + LearnedRule.formatP(p)
            + ",refined="
            + excluded
            + (kept ? "," + alt.evidence : "");
    if (chosen == decision.inbound) {
      return new Decision(Link.INFERRED, chosen, chosen.context, decision.candidates, score, alt);
    }
    if (decision.inbound != null) decision.inbound.decrementLinkedCalls();
    chosen.incrementLinkedCalls();
    return new Decision(Link.INFERRED, chosen, chosen.context, decision.candidates, score, alt);
  }

  /**
   * The refined confidence, on the rule's own scale: every surviving rate (and the background's)
   * raised to the rule's tempering before normalising, as {@link LearnedRule} does at the call's
   * start. The raw posterior written here before was far more confident than the tempered one at
   * the start (docs/accuracy.md, Calibration), and most inferred spans are refined.
   */
  static double confidence(CandidateRule.Alternatives alt, boolean[] out, double best) {
    double a = alt.tempering;
    double max = Math.max(best, alt.background);
    if (!(max > 0)) return 0;
    double total = alt.background > 0 ? Math.pow(alt.background / max, a) : 0;
    for (int i = 0; i < alt.likelihoods.length; i++) {
      if (!out[i] && alt.likelihoods[i] > 0) total += Math.pow(alt.likelihoods[i] / max, a);
    }
    return Math.pow(best / max, a) / total;
  }

  private @Nullable Decision byHeader(OutboundCall call) {
    TraceContext forwarded = call.forwardedContext;
    if (forwarded != null) {
      InboundRequest r = registry.findBySpanId(forwarded.spanId());
      if (r != null && sameTrace(r.context, forwarded)) {
        return learnedAndLinked(call, Link.HEADER, r, r.context, registry.inFlightCount());
      }
    }
    String requestId = call.forwardedRequestId;
    if (requestId == null && forwarded != null) requestId = forwarded.requestId();
    InboundRequest byId = requestId == null ? null : registry.findByRequestId(requestId);
    if (byId != null) {
      // Continue what the app forwarded if it forwarded a context (its own tracer's span).
      TraceContext parent = forwarded != null ? forwarded : byId.context;
      return learnedAndLinked(call, Link.HEADER, byId, parent, registry.inFlightCount());
    }
    if (forwarded != null) {
      return new Decision(Link.HEADER, null, forwarded, registry.inFlightCount(), null);
    }
    return null;
  }

  private Decision inferred(OutboundCall call, List<InboundRequest> candidates, int count) {
    // Every candidate's own call count is uncertain from now on: no learner sample from them.
    for (int i = 0, n = candidates.size(); i < n; i++) candidates.get(i).ambiguous = true;
    CandidateRule.Choice choice = rule.choose(call, candidates, call.startNanos);
    if (choice == null) return Decision.root(count);
    InboundRequest r = choice.request();
    record(r, call.startNanos);
    return new Decision(Link.INFERRED, r, r.context, count, choice.score(), choice.alternatives());
  }

  private Decision sole(OutboundCall call, InboundRequest sole) {
    if (rule.background(call, sole, call.startNanos)) return Decision.root(1);
    return learnedAndLinked(call, Link.SOLE, sole, sole.context, 1);
  }

  private Decision learnedAndLinked(
      OutboundCall call, Link link, InboundRequest r, TraceContext parent, int candidates) {
    rule.learn(call, r, link);
    return linked(link, r, parent, candidates, call.startNanos);
  }

  private static Decision linked(
      Link link, InboundRequest r, TraceContext parent, int candidates, long nowNanos) {
    record(r, nowNanos);
    return new Decision(link, r, parent, candidates, null);
  }

  private static void record(InboundRequest r, long nowNanos) {
    r.incrementLinkedCalls();
    r.lastLinkedNanos = nowNanos == 0L ? 1L : nowNanos;
  }

  private static boolean sameTrace(TraceContext a, TraceContext b) {
    return a.traceIdHigh() == b.traceIdHigh() && a.traceIdLow() == b.traceIdLow();
  }

  @Override
  public String toString() {
    return "Correlator(" + rule + ")";
  }
}
