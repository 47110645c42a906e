package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Evidence from outside the headers that shrinks the in-flight candidates before the {@link
 * CandidateRule} chooses: the proxy's {@code process} evidence (which app worker owns the outbound
 * connection, and which owns each inbound one, read from /proc) implements it. The correlator asks
 * only when it would otherwise infer among several in-flight requests, so a filter may be costly
 * (it may block for a bounded time); it is never asked on the header, sole or root paths.
 *
 * <p>Implementations must be thread-safe, must not throw, and must return within their own time
 * bound: {@code null} (no evidence) is always a correct answer.
 */
public interface CandidateFilter {
  /** No evidence ever: the correlator as without a filter. */
  CandidateFilter NONE = (call, candidates) -> null;

  /**
   * Narrows {@code candidates} (at least two requests in flight at the app) for {@code call}, or
   * returns null when there is no evidence.
   */
  @Nullable Narrowing narrow(OutboundCall call, List<InboundRequest> candidates);

  /** What the evidence left: one exact cause, or a smaller set for the rule to choose from. */
  final class Narrowing {
    private final @Nullable InboundRequest exact;
    private final List<InboundRequest> candidates;

    private Narrowing(@Nullable InboundRequest exact, List<InboundRequest> candidates) {
      this.exact = exact;
      this.candidates = candidates;
    }

    /** The call was made for {@code cause} and no other: linked {@link Link#PROCESS}. */
    public static Narrowing exact(InboundRequest cause) {
      requireNonNull(cause, "cause");
      return new Narrowing(cause, List.of(cause));
    }

    /**
     * The cause is one of {@code subset} (non-empty, a subset of the candidates): the rule chooses
     * among them, and {@code hoptrace.candidates} reports their number.
     */
    public static Narrowing subset(List<InboundRequest> subset) {
      if (subset.isEmpty()) throw new IllegalArgumentException("subset: empty");
      return new Narrowing(null, List.copyOf(subset));
    }

    /** The single cause, or null when this is a subset. */
    public @Nullable InboundRequest exact() {
      return exact;
    }

    public List<InboundRequest> candidates() {
      return candidates;
    }

    @Override
    public String toString() {
      return exact != null ? "exact " + exact : "subset " + candidates;
    }
  }
}
