package io.hoptrace.correlation;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * The correlator's answer for one outbound call: how it was linked, to which inbound request, the
 * context the CLIENT span becomes a child of, how many inbound requests were in flight, and for
 * {@link Link#INFERRED} the score that decided. Immutable.
 */
public final class Decision {
  final Link link;
  final @Nullable InboundRequest inbound;
  final @Nullable TraceContext parent;
  final int candidates;
  final @Nullable String score;
  final int inFlight;

  Decision(
      Link link,
      @Nullable InboundRequest inbound,
      @Nullable TraceContext parent,
      int candidates,
      @Nullable String score) {
    this(link, inbound, parent, candidates, score, candidates);
  }

  private Decision(
      Link link,
      @Nullable InboundRequest inbound,
      @Nullable TraceContext parent,
      int candidates,
      @Nullable String score,
      int inFlight) {
    this.link = requireNonNull(link, "link");
    this.inbound = inbound;
    this.parent = parent;
    this.candidates = candidates;
    this.score = score;
    this.inFlight = inFlight;
  }

  /** This decision, made among candidates a {@link CandidateFilter} narrowed from {@code n}. */
  Decision withInFlight(int n) {
    return new Decision(link, inbound, parent, candidates, score, n);
  }

  private static final Decision ROOT_NONE_IN_FLIGHT = new Decision(Link.ROOT, null, null, 0, null);

  static Decision root(int candidates) {
    return candidates == 0
        ? ROOT_NONE_IN_FLIGHT
        : new Decision(Link.ROOT, null, null, candidates, null);
  }

  public Link link() {
    return link;
  }

  /** The inbound request the call was linked to; null for ROOT and for a foreign header context. */
  public @Nullable InboundRequest inbound() {
    return inbound;
  }

  /**
   * The context the CLIENT span is a child of (same trace, this as its parent); null for {@link
   * Link#ROOT}, where the CLIENT span starts a new trace.
   */
  public @Nullable TraceContext parent() {
    return parent;
  }

  /**
   * The {@code hoptrace.candidates} tag: how many inbound requests were in flight at the app, or,
   * when a {@link CandidateFilter} narrowed them, how many it left.
   */
  public int candidates() {
    return candidates;
  }

  /** How many were in flight before any narrowing: {@link #candidates()} unless narrowed. */
  public int inFlight() {
    return inFlight;
  }

  /** Whether a {@link CandidateFilter} narrowed the candidates the rule chose from. */
  public boolean narrowed() {
    return inFlight != candidates;
  }

  /**
   * The {@code hoptrace.score} tag for {@link Link#INFERRED}, else null. Format: {@code
   * <rule>:<key>=<value>,...} (see {@link FewestCallsRule} and RATIONALE.md).
   */
  public @Nullable String score() {
    return score;
  }

  @Override
  public String toString() {
    return link.tagValue()
        + " candidates="
        + candidates
        + (inbound != null ? " inbound=" + inbound : "")
        + (score != null ? " score=" + score : "");
  }
}
