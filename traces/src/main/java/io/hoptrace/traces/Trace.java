package io.hoptrace.traces;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One assembled trace: its spans, as a forest of {@link TraceNode}s, and the summary a list shows.
 */
public final class Trace {
  static final int MAX_DRAWN_DEPTH = 24;

  private final String traceId;
  private final List<TraceNode> roots;
  private final List<SpanRecord> spans; // by start time, then id
  private final long startMicros;
  private final long endMicros;
  private final List<String> services;
  private final int errorCount;
  private final int inferredCount;
  private final int missingParentCount;
  private final List<String> requestIds;
  private final @Nullable SpanRecord root;

  Trace(String traceId, List<TraceNode> roots, List<SpanRecord> spans, int missingParentCount) {
    this.traceId = traceId;
    this.roots = Collections.unmodifiableList(roots);
    this.spans = Collections.unmodifiableList(spans);
    this.missingParentCount = missingParentCount;
    long start = Long.MAX_VALUE;
    long end = Long.MIN_VALUE;
    Set<String> svc = new LinkedHashSet<>();
    Set<String> rids = new LinkedHashSet<>();
    int errors = 0;
    int inferred = 0;
    for (SpanRecord s : spans) {
      start = Math.min(start, s.timestampMicros());
      end = Math.max(end, s.endMicros());
      svc.add(s.serviceName());
      String rid = s.tag("http.request_id");
      if (rid != null) rids.add(rid);
      if (s.isError()) errors++;
      if (s.isInferred()) inferred++;
    }
    this.startMicros = spans.isEmpty() ? 0 : start;
    this.endMicros = spans.isEmpty() ? 0 : end;
    this.services = List.copyOf(svc);
    this.requestIds = List.copyOf(rids);
    this.errorCount = errors;
    this.inferredCount = inferred;
    SpanRecord r = null;
    for (TraceNode n : roots) {
      if (n.span() != null) {
        r = n.span();
        break;
      }
    }
    this.root = r != null ? r : spans.isEmpty() ? null : spans.get(0);
  }

  public String traceId() {
    return traceId;
  }

  /** Real roots first, then one missing-parent marker per absent parent; each by start time. */
  public List<TraceNode> roots() {
    return roots;
  }

  /** Every span, by start time. */
  public List<SpanRecord> spans() {
    return spans;
  }

  /** The root span, or the earliest span when the root is missing. */
  public @Nullable SpanRecord root() {
    return root;
  }

  /** The root's name, e.g. {@code get /checkout}; empty for an empty trace. */
  public String rootName() {
    return root == null ? "" : root.name();
  }

  /** The root's service. */
  public String rootService() {
    return root == null ? "" : root.serviceName();
  }

  public long startMicros() {
    return startMicros;
  }

  public long endMicros() {
    return endMicros;
  }

  /** From the earliest start to the latest end. */
  public long durationMicros() {
    return endMicros - startMicros;
  }

  /** Services in the order they first appear. */
  public List<String> services() {
    return services;
  }

  public int spanCount() {
    return spans.size();
  }

  public int errorCount() {
    return errorCount;
  }

  /** CLIENT spans whose link was {@code inferred} (not known exactly). */
  public int inferredCount() {
    return inferredCount;
  }

  /** Parent ids named by spans of this trace but not found in the logs. */
  public int missingParentCount() {
    return missingParentCount;
  }

  /** Every {@code http.request_id} seen in the trace. */
  public List<String> requestIds() {
    return requestIds;
  }

  /** True when some span names this service. */
  public boolean touches(String service) {
    return services.contains(service);
  }

  /** The nodes in waterfall order (depth first, children by start time), with depths. */
  public List<Row> rows() {
    // Iterative: a hostile log can nest spans deeper than the stack.
    List<Row> out = new ArrayList<>();
    ArrayDeque<Row> stack = new ArrayDeque<>();
    for (int i = roots.size() - 1; i >= 0; i--) {
      stack.push(new Row(roots.get(i), 0, "", i == roots.size() - 1, true));
    }
    while (!stack.isEmpty()) {
      Row row = stack.pop();
      out.add(row);
      // Past MAX_DRAWN_DEPTH the tree drawing stops growing: a hostile log must not make the
      // prefixes quadratic (depth is still reported exactly).
      String childPrefix =
          row.top()
              ? ""
              : row.depth() >= MAX_DRAWN_DEPTH
                  ? row.prefix()
                  : row.prefix() + (row.last() ? "   " : "\u2502  ");
      List<TraceNode> children = row.node().children();
      for (int i = children.size() - 1; i >= 0; i--) {
        stack.push(
            new Row(
                children.get(i), row.depth() + 1, childPrefix, i == children.size() - 1, false));
      }
    }
    return out;
  }

  /**
   * One line of a waterfall: the node, its depth, and the tree drawing before it ({@code prefix}
   * holds the continuation lines of the ancestors, drawn with a vertical line).
   */
  public record Row(TraceNode node, int depth, String prefix, boolean last, boolean top) {}
}
