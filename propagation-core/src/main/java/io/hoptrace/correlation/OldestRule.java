package io.hoptrace.correlation;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A baseline {@link CandidateRule}: the longest-delivered request in flight (or, for
 * fire-and-forget, the one that ended first) takes the call. One of the two simple rules that
 * docs/accuracy.md measures the learned rule against. Score: {@code oldest:age_us=<µs since
 * delivered or ended>}.
 */
public final class OldestRule implements CandidateRule {
  public static final OldestRule INSTANCE = new OldestRule();

  private OldestRule() {}

  @Override
  public @Nullable Choice choose(
      OutboundCall call, List<InboundRequest> candidates, long nowNanos) {
    InboundRequest best = null;
    long bestTime = 0;
    for (int i = 0, n = candidates.size(); i < n; i++) {
      InboundRequest r = candidates.get(i);
      long time = r.isEnded() ? r.endNanos() : r.deliveredNanos();
      if (best == null || time - bestTime < 0) {
        best = r;
        bestTime = time;
      }
    }
    if (best == null) return null;
    return new Choice(best, "oldest:age_us=" + Math.max(0L, (nowNanos - bestTime) / 1000));
  }

  @Override
  public String toString() {
    return "OldestRule";
  }
}
