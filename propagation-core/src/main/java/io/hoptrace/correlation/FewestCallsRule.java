package io.hoptrace.correlation;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The default {@link CandidateRule}: the request that has made the fewest outbound calls so far,
 * and among those the most recently delivered (or, for fire-and-forget, the most recently ended).
 * One pass over at most {@link Correlator#MAX_CANDIDATES}; deterministic. RATIONALE.md explains why
 * and when it is wrong.
 *
 * <p>Score format: {@code fewest_calls:calls=<n>,age_us=<µs since delivered>,ties=<k>} for a
 * request in flight, {@code fewest_calls:calls=<n>,ended_us=<µs since it ended>,ties=<k>} for a
 * finished one, where {@code ties} counts the other candidates with the same number of calls (0 =
 * the call count alone decided; more = recency broke a tie, a weaker guess).
 */
public final class FewestCallsRule implements CandidateRule {
  public static final FewestCallsRule INSTANCE = new FewestCallsRule();

  private FewestCallsRule() {}

  @Override
  public @Nullable Choice choose(
      OutboundCall call, List<InboundRequest> candidates, long nowNanos) {
    InboundRequest best = null;
    int bestCalls = Integer.MAX_VALUE;
    long bestTime = Long.MIN_VALUE;
    int ties = 0;
    for (int i = 0, n = candidates.size(); i < n; i++) {
      InboundRequest r = candidates.get(i);
      int calls = r.linkedCalls();
      long time = r.isEnded() ? r.endNanos() : r.deliveredNanos();
      if (calls < bestCalls) {
        best = r;
        bestCalls = calls;
        bestTime = time;
        ties = 0;
      } else if (calls == bestCalls) {
        ties++;
        if (time - bestTime > 0) { // newer (ticker arithmetic: compare differences)
          best = r;
          bestTime = time;
        }
      }
    }
    if (best == null) return null;
    boolean ended = best.isEnded();
    long micros = Math.max(0L, (nowNanos - bestTime) / 1000);
    return new Choice(
        best,
        "fewest_calls:calls="
            + bestCalls
            + (ended ? ",ended_us=" : ",age_us=")
            + micros
            + ",ties="
            + ties);
  }

  @Override
  public String toString() {
    return "FewestCallsRule";
  }
}
