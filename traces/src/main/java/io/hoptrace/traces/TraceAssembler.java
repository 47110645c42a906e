package io.hoptrace.traces;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds traces from spans by their {@code id}/{@code parentId} edges within each trace id. Input
 * is untrusted: a parent that is absent puts its children under a "(missing parent)" marker; a
 * cycle or self-parent cannot loop, its spans are shown under a marker too.
 */
public final class TraceAssembler {
  private TraceAssembler() {}

  static final Comparator<TraceNode> BY_START =
      Comparator.comparingLong(TraceNode::startMicros).thenComparing(TraceNode::sortKey);

  static final Comparator<SpanRecord> SPANS_BY_START =
      Comparator.comparingLong(SpanRecord::timestampMicros)
          .thenComparing(SpanRecord::id)
          .thenComparing(s -> "SERVER".equals(s.kind()) ? 1 : 0);

  /** Most recent trace first (by start, then trace id for a stable order). */
  public static final Comparator<Trace> RECENT_FIRST =
      Comparator.comparingLong(Trace::startMicros).reversed().thenComparing(Trace::traceId);

  /** Every trace in {@code spans}, most recent first. */
  public static List<Trace> assemble(Collection<SpanRecord> spans) {
    Map<String, List<SpanRecord>> byTrace = new LinkedHashMap<>();
    for (SpanRecord s : spans) byTrace.computeIfAbsent(s.traceId(), k -> new ArrayList<>()).add(s);
    List<Trace> traces = new ArrayList<>(byTrace.size());
    for (Map.Entry<String, List<SpanRecord>> e : byTrace.entrySet()) {
      traces.add(assembleOne(e.getKey(), e.getValue()));
    }
    traces.sort(RECENT_FIRST);
    return traces;
  }

  /** One trace from its spans (all with trace id {@code traceId}). */
  public static Trace assembleOne(String traceId, List<SpanRecord> input) {
    List<SpanRecord> spans = new ArrayList<>(input);
    spans.sort(SPANS_BY_START);
    IdentityHashMap<SpanRecord, TraceNode> nodes = new IdentityHashMap<>();
    // The node children attach to for each id. When a CLIENT and a SERVER share an id (Zipkin's
    // shared-span model, e.g. B3 from another tracer), the SERVER is the inner one.
    Map<String, TraceNode> byId = new HashMap<>();
    Map<String, TraceNode> sharedClient = new HashMap<>();
    for (SpanRecord s : spans) {
      TraceNode n = TraceNode.of(s);
      nodes.put(s, n);
      TraceNode prior = byId.get(s.id());
      if (prior == null) {
        byId.put(s.id(), n);
      } else if ("SERVER".equals(s.kind()) && !"SERVER".equals(kindOf(prior))) {
        sharedClient.put(s.id(), prior);
        byId.put(s.id(), n);
      } else if (!"SERVER".equals(s.kind()) && "SERVER".equals(kindOf(prior))) {
        sharedClient.put(s.id(), n);
      }
    }

    List<TraceNode> roots = new ArrayList<>();
    Map<String, TraceNode> missing = new TreeMap<>();
    for (SpanRecord s : spans) {
      TraceNode n = nodes.get(s);
      TraceNode parent;
      if (sharedClient.get(s.id()) != null && byId.get(s.id()) == n) {
        parent = sharedClient.get(s.id()); // the SERVER half of a shared span
      } else if (sharedClient.get(s.id()) == n) {
        String p = s.parentId();
        parent = p == null ? null : byId.get(p);
        if (p != null && parent == null)
          parent = missing.computeIfAbsent(p, TraceNode::missingParent);
      } else {
        String p = s.parentId();
        if (p == null) {
          parent = null;
        } else {
          parent = byId.get(p);
          if (parent == null || parent == n) {
            parent = missing.computeIfAbsent(p, TraceNode::missingParent);
          }
        }
      }
      if (parent == null) {
        roots.add(n);
      } else {
        parent.children.add(n);
      }
    }

    // A cycle (a → b → a) is unreachable from every root: cut it and show it under a marker.
    Set<TraceNode> reached = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    for (TraceNode r : roots) reach(r, reached);
    for (TraceNode m : missing.values()) reach(m, reached);
    for (SpanRecord s : spans) {
      TraceNode n = nodes.get(s);
      if (reached.contains(n)) continue;
      for (TraceNode other : nodes.values()) other.children.remove(n);
      String p = s.parentId() == null ? s.id() : s.parentId();
      TraceNode marker = missing.computeIfAbsent(p, TraceNode::missingParent);
      marker.children.add(n);
      reach(marker, reached);
    }

    for (TraceNode n : nodes.values()) n.children.sort(BY_START);
    for (TraceNode m : missing.values()) m.children.sort(BY_START);
    roots.sort(BY_START);
    List<TraceNode> markers = new ArrayList<>(missing.values());
    markers.sort(BY_START);
    roots.addAll(markers);
    return new Trace(traceId, roots, spans, missing.size());
  }

  private static void reach(TraceNode node, Set<TraceNode> reached) {
    // Iterative: a hostile log can nest spans deeper than the stack.
    List<TraceNode> stack = new ArrayList<>();
    stack.add(node);
    while (!stack.isEmpty()) {
      TraceNode n = stack.remove(stack.size() - 1);
      if (!reached.add(n)) continue;
      stack.addAll(n.children);
    }
  }

  private static String kindOf(TraceNode n) {
    SpanRecord s = n.span();
    return s == null || s.kind() == null ? "" : s.kind();
  }
}
