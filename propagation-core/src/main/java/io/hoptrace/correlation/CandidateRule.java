package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Chooses which inbound request caused an outbound call when no header says so and more than one
 * could have: the {@link Link#INFERRED} case. The default is {@link FewestCallsRule}; a learning
 * correlator replaces it (e.g. one that knows which routes call which authorities).
 *
 * <p>Implementations must be thread-safe, bounded (the candidates list is already capped at {@link
 * Correlator#MAX_CANDIDATES}) and must not block: the proxy calls it on its I/O path.
 */
public interface CandidateRule {
  /**
   * Picks one of {@code candidates} for {@code call}, or returns null to decline (the call then
   * becomes a {@link Link#ROOT}). The candidates are either all in flight at the app, or, when none
   * is, all ended within the registry's grace window (most recently ended first).
   */
  @Nullable Choice choose(OutboundCall call, List<InboundRequest> candidates, long nowNanos);

  /**
   * Told about every link that is exact ({@link Link#HEADER} with a known request, {@link
   * Link#PROCESS}, {@link Link#SOLE}; {@code request} non-null) and every call made with nothing in
   * flight or recently ended ({@link Link#ROOT}, {@code request} null): what a learning rule learns
   * from. Called before the request's {@link InboundRequest#linkedCalls()} counts this call. The
   * default ignores it. Must be cheap and must not block.
   */
  default void learn(OutboundCall call, @Nullable InboundRequest request, Link link) {}

  /**
   * Told when a call ended (from {@link Correlator#refine}): {@code exact} for an exact link, or
   * the {@link Alternatives} of an inferred one. The default ignores it.
   */
  default void callEnded(@Nullable InboundRequest exact, @Nullable Alternatives alternatives) {}

  /**
   * Exactly one request is in flight: should this call still be a new trace ({@link Link#ROOT})
   * because it looks like the app's own background work (a timer, a health check)? The default says
   * no: the call is {@link Link#SOLE}.
   */
  default boolean background(OutboundCall call, InboundRequest sole, long nowNanos) {
    return false;
  }

  /** A chosen request and the score text that explains the choice (the inferred-score tag). */
  record Choice(InboundRequest request, String score, @Nullable Alternatives alternatives) {
    public Choice {
      requireNonNull(request, "request");
      requireNonNull(score, "score");
    }

    public Choice(InboundRequest request, String score) {
      this(request, score, null);
    }
  }

  /**
   * What a scoring rule knew when it chose: every candidate's likelihood (a rate, per second, that
   * it made this call now) and the background rate (that no request made it). Kept on the {@link
   * Decision} so that {@link Correlator#refine} can decide again when the call ends, with the
   * candidates that ended meanwhile ruled out. The arrays are owned by this object.
   */
  final class Alternatives {
    final InboundRequest[] requests;
    final double[] likelihoods;
    final double background;
    final String ruleName;
    final double tempering;
    final @Nullable String evidence;

    public Alternatives(
        InboundRequest[] requests, double[] likelihoods, double background, String ruleName) {
      this(requests, likelihoods, background, ruleName, 1.0);
    }

    /**
     * With the exponent the rule flattens its confidence by ({@code 1}: the raw posterior), so that
     * the confidence {@link Correlator#refine} writes is on the same scale as the rule's own.
     */
    public Alternatives(
        InboundRequest[] requests,
        double[] likelihoods,
        double background,
        String ruleName,
        double tempering) {
      this(requests, likelihoods, background, ruleName, tempering, null);
    }

    /**
     * With the non-timing evidence that weighed in ({@code value=<k>}: k candidates shared the
     * call's value), kept in the score when {@link Correlator#refine} rewrites it; or null.
     */
    public Alternatives(
        InboundRequest[] requests,
        double[] likelihoods,
        double background,
        String ruleName,
        double tempering,
        @Nullable String evidence) {
      if (!(tempering > 0 && tempering <= 1)) {
        throw new IllegalArgumentException("tempering: " + tempering + " (expected: (0, 1])");
      }
      if (requests.length != likelihoods.length) {
        throw new IllegalArgumentException(
            "likelihoods: " + likelihoods.length + " (expected: " + requests.length + ")");
      }
      this.requests = requests;
      this.likelihoods = likelihoods;
      this.background = background;
      this.ruleName = requireNonNull(ruleName, "ruleName");
      this.tempering = tempering;
      this.evidence = evidence;
    }

    public int size() {
      return requests.length;
    }

    public InboundRequest request(int i) {
      return requests[i];
    }

    /** Candidate {@code i}'s rate (per second) of having made the call when it started. */
    public double likelihood(int i) {
      return likelihoods[i];
    }

    /** The rate of the call being background work (a new trace). */
    public double background() {
      return background;
    }
  }
}
