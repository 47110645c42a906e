package io.hoptrace.proxy.demo;

import io.hoptrace.traces.SpanLogReader;
import io.hoptrace.traces.SpanRecord;
import io.hoptrace.traces.Trace;
import io.hoptrace.traces.TraceAssembler;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * What this run's span logs say: how many CLIENT spans got each {@code hoptrace.link} value and,
 * since the order id travels in every path, how many of those links were right; the SERVER spans'
 * {@code hoptrace.context}; and one complete checkout to show as a waterfall. Reads the logs as
 * {@code hoptrace traces} does (the traces module), keeping only spans that started in this run.
 */
final class DemoReport {
  /** Link values in the order the legend explains them (DESIGN.md). */
  static final List<String> LINKS = List.of("header", "process", "sole", "inferred", "root");

  static final List<String> CONTEXTS = List.of("extracted", "started", "restarted");

  private static final Map<String, String> PREFIXES =
      Map.of(
          "checkout", "get /checkout/",
          "orders", "get /orders/",
          "stock", "get /stock/",
          "prices", "get /prices/");

  final List<SpanRecord> spans;
  final Map<String, Integer> links = new LinkedHashMap<>();
  final Map<String, Integer> linksRight = new HashMap<>();
  final Map<String, Integer> contexts = new LinkedHashMap<>();
  int clientSpans;
  int serverSpans;
  final @Nullable Trace example;

  private DemoReport(List<SpanRecord> spans) {
    this.spans = spans;
    for (String l : LINKS) links.put(l, 0);
    for (String c : CONTEXTS) contexts.put(c, 0);
    Map<String, SpanRecord> byId = new HashMap<>();
    for (SpanRecord s : spans) byId.put(s.id(), s);
    for (SpanRecord s : spans) {
      if ("CLIENT".equals(s.kind())) {
        clientSpans++;
        String link = String.valueOf(s.tag("hoptrace.link"));
        links.merge(link, 1, Integer::sum);
        SpanRecord parent = s.parentId() == null ? null : byId.get(s.parentId());
        if (linkedRight(s, parent)) linksRight.merge(link, 1, Integer::sum);
      } else if ("SERVER".equals(s.kind())) {
        serverSpans++;
        contexts.merge(String.valueOf(s.tag("hoptrace.context")), 1, Integer::sum);
      }
    }
    this.example = example(TraceAssembler.assemble(spans));
  }

  /** Reads the logs, keeping the spans that started at or after {@code sinceMicros}. */
  static DemoReport read(List<Path> logs, long sinceMicros) {
    List<Path> present = new ArrayList<>();
    for (Path p : logs) if (Files.isRegularFile(p)) present.add(p);
    List<SpanRecord> spans = new ArrayList<>();
    for (SpanRecord s : new SpanLogReader().readAll(present).spans()) {
      if (s.timestampMicros() >= sinceMicros) spans.add(s);
    }
    return new DemoReport(spans);
  }

  /**
   * Reads until at least {@code expected} spans of this run are there (span lines reach the file
   * within a flush interval), for at most five seconds.
   */
  static DemoReport await(List<Path> logs, long sinceMicros, int expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      DemoReport r = read(logs, sinceMicros);
      if (r.spans.size() >= expected || System.nanoTime() > deadline) return r;
      Thread.sleep(50);
    }
  }

  /**
   * A CLIENT span's link is right when its parent SERVER span is the request that really made the
   * call: the same order id in both paths. A call with no order id (orders' timer) is right as a
   * root.
   */
  static boolean linkedRight(SpanRecord client, @Nullable SpanRecord parent) {
    String id = orderId(client.name());
    if (id == null) return parent == null;
    return parent != null && id.equals(orderId(parent.name()));
  }

  /** The order id in a span name such as {@code get /stock/17}; null for any other name. */
  static @Nullable String orderId(String name) {
    for (String prefix : PREFIXES.values()) {
      if (name.startsWith(prefix)) return name.substring(prefix.length());
    }
    return null;
  }

  /**
   * The checkout to show: complete (front, orders and both inventory calls: seven spans), every
   * link {@code sole} and right; of those, the one of median duration.
   */
  private static @Nullable Trace example(List<Trace> traces) {
    List<Trace> complete = new ArrayList<>();
    for (Trace t : traces) {
      SpanRecord root = t.root();
      if (root == null || !root.name().startsWith(PREFIXES.get("checkout"))) continue;
      if (t.spanCount() != 7 || t.errorCount() > 0 || t.missingParentCount() > 0) continue;
      String id = orderId(root.name());
      boolean exact = true;
      for (SpanRecord s : t.spans()) {
        boolean client = "CLIENT".equals(s.kind());
        if (!java.util.Objects.equals(orderId(s.name()), id)
            || (client && !"sole".equals(s.tag("hoptrace.link")))) {
          exact = false;
        }
      }
      if (exact) complete.add(t);
    }
    if (complete.isEmpty()) return null;
    complete.sort(Comparator.comparingLong(Trace::durationMicros));
    return complete.get(complete.size() / 2);
  }

  /** The legend: what the LINK column (and the {@code ~} mark) means. */
  static void printLegend(PrintStream out) {
    out.println("How to read it");
    out.println("  One line per hop; the tree comes from the span ids alone. LINK says how the");
    out.println("  hoptrace of that hop knows where the span belongs:");
    out.println("  SERVER spans, hoptrace.context");
    out.println(
        "    extracted  the caller's trace context came with the request and was continued");
    out.println("    started    none came: a new trace (front is called from outside)");
    out.println("    restarted  one came but was invalid or untrusted: a new trace");
    out.println("  CLIENT spans, hoptrace.link (which inbound request caused this outbound call)");
    out.println("    header     the app forwarded a trace context or request id: exact");
    out.println("    process    the calling process held exactly one inbound request: exact");
    out.println(
        "    sole       exactly one inbound request was in flight: exact for synchronous apps");
    out.println("    inferred   several were in flight and the correlator chose one: a guess (~)");
    out.println("    root       none was in flight: the call starts a new trace");
  }

  /** Counts per link value, each checked against the order ids in the paths. */
  void printEvidence(PrintStream out, int backgroundCalls) {
    out.println("Link evidence from this run (checked against the order id in each path)");
    out.println("  hoptrace.link on " + clientSpans + " CLIENT spans:");
    for (Map.Entry<String, Integer> e : links.entrySet()) {
      String link = e.getKey();
      int n = e.getValue();
      int right = linksRight.getOrDefault(link, 0);
      String verdict;
      if (n == 0) {
        verdict =
            switch (link) {
              case "header" -> "the demo apps forward no header";
              case "process" -> "the three apps share this one JVM process";
              default -> "";
            };
      } else if (right == n) {
        verdict = "all right" + (link.equals("root") ? " (orders' timer)" : "");
      } else {
        verdict = right + " right, " + (n - right) + " wrong";
        if (link.equals("inferred")) verdict += ": a guess, and the span says so";
      }
      out.printf("    %-9s %4d   %s%n", link, n, verdict);
    }
    StringBuilder c = new StringBuilder();
    for (Map.Entry<String, Integer> e : contexts.entrySet()) {
      if (c.length() > 0) c.append(", ");
      c.append(e.getKey()).append(' ').append(e.getValue());
    }
    out.println("  hoptrace.context on " + serverSpans + " SERVER spans: " + c);
    if (links.getOrDefault("inferred", 0) > 0) {
      out.println(
          "  Inferred spans carry hoptrace.candidates and the score that decided. Apps that");
      out.println(
          "  copy the traceparent or X-Request-Id they receive onto their calls get header");
      out.println("  links, which are exact.");
    }
    out.println(
        "  orders' timer made "
            + backgroundCalls
            + " background calls; each checkout made 3 calls (front 1, orders 2).");
  }
}
