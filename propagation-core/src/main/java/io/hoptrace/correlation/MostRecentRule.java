package io.hoptrace.correlation;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A baseline {@link CandidateRule}: the most recently delivered request in flight (or, for
 * fire-and-forget, the most recently ended) takes the call, whatever it already did. One of the two
 * simple rules that docs/accuracy.md measures the learned rule against. Score: {@code
 * most_recent:age_us=<µs since delivered or ended>}.
 */
public final class MostRecentRule implements CandidateRule {
  public static final MostRecentRule INSTANCE = new MostRecentRule();

  private MostRecentRule() {}

  @Override
  public @Nullable Choice choose(
      OutboundCall call, List<InboundRequest> candidates, long nowNanos) {
    InboundRequest best = null;
    long bestTime = 0;
    for (int i = 0, n = candidates.size(); i < n; i++) {
      InboundRequest r = candidates.get(i);
      long time = r.isEnded() ? r.endNanos() : r.deliveredNanos();
      if (best == null || time - bestTime > 0) {
        best = r;
        bestTime = time;
      }
    }
    if (best == null) return null;
    return new Choice(best, "most_recent:age_us=" + Math.max(0L, (nowNanos - bestTime) / 1000));
  }

  @Override
  public String toString() {
    return "MostRecentRule";
  }
}
