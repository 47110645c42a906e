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

  /** A chosen request and the score text that explains the choice (the inferred-score tag). */
  record Choice(InboundRequest request, String score) {
    public Choice {
      requireNonNull(request, "request");
      requireNonNull(score, "score");
    }
  }
}
