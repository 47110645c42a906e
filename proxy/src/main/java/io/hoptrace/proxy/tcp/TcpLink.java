package io.hoptrace.proxy.tcp;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TcpLinker}'s answer: the parent context (null starts a new trace) and the evidence
 * written as the attribution tags {@code hoptrace.link}, {@code hoptrace.candidates} and, for
 * {@code inferred}, {@code hoptrace.score} (DESIGN.md "Span log").
 */
public final class TcpLink {
  static final TcpLink ROOT = new TcpLink(null, "root", 0, null);

  final @Nullable TraceContext parent;
  final String link;
  final int candidates;
  final @Nullable String score;

  TcpLink(@Nullable TraceContext parent, String link, int candidates, @Nullable String score) {
    this.parent = parent;
    this.link = link;
    this.candidates = candidates;
    this.score = score;
  }

  /**
   * The linker's decision.
   *
   * @param parent the inbound request's context, or null for {@code root}
   * @param link {@code process}, {@code sole}, {@code inferred} or {@code root}
   * @param candidates how many inbound requests were in flight
   * @param score the score that decided an {@code inferred} link, else null
   */
  public static TcpLink of(
      @Nullable TraceContext parent, String link, int candidates, @Nullable String score) {
    requireNonNull(link, "link");
    if (candidates < 0) {
      throw new IllegalArgumentException("candidates: " + candidates + " (expected: >= 0)");
    }
    if (parent == null && !link.equals("root")) {
      throw new IllegalArgumentException("link: " + link + " without a parent (expected: root)");
    }
    return new TcpLink(parent, link, candidates, score);
  }

  /** No inbound request in flight: a new trace, {@code hoptrace.candidates=0}. */
  public static TcpLink root() {
    return ROOT;
  }

  public @Nullable TraceContext parent() {
    return parent;
  }

  public String link() {
    return link;
  }

  public int candidates() {
    return candidates;
  }

  public @Nullable String score() {
    return score;
  }

  @Override
  public String toString() {
    return link + "/" + candidates + (parent != null ? " " + parent : "");
  }
}
