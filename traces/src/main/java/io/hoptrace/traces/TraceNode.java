package io.hoptrace.traces;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One node of an assembled trace tree: a span, or the "(missing parent)" marker under which spans
 * whose parent is not in the logs are shown (that service's log was not given, or is rotated away).
 */
public final class TraceNode {
  private final @Nullable SpanRecord span;
  private final @Nullable String missingParentId;
  final List<TraceNode> children = new ArrayList<>();

  private TraceNode(@Nullable SpanRecord span, @Nullable String missingParentId) {
    this.span = span;
    this.missingParentId = missingParentId;
  }

  static TraceNode of(SpanRecord span) {
    return new TraceNode(span, null);
  }

  static TraceNode missingParent(String parentId) {
    return new TraceNode(null, parentId);
  }

  /** The span, or null for a missing-parent marker. */
  public @Nullable SpanRecord span() {
    return span;
  }

  /** For a missing-parent marker: the parent id the children name; null otherwise. */
  public @Nullable String missingParentId() {
    return missingParentId;
  }

  public boolean isMissingParent() {
    return span == null;
  }

  /** Children by start time (then span id): the order a waterfall reads in. */
  public List<TraceNode> children() {
    return Collections.unmodifiableList(children);
  }

  /** Start of this node: the span's, or for a marker the earliest child's. */
  public long startMicros() {
    if (span != null) return span.timestampMicros();
    long min = Long.MAX_VALUE;
    for (TraceNode c : children) min = Math.min(min, c.startMicros());
    return children.isEmpty() ? 0 : min;
  }

  String sortKey() {
    return span != null ? span.id() : "~" + missingParentId;
  }
}
