package io.hoptrace.traces.reconcile;

import io.hoptrace.context.HexCodec;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.correlation.LearnedRule;
import io.hoptrace.correlation.Link;
import io.hoptrace.correlation.OutboundCall;
import io.hoptrace.store.ManualTicker;
import io.hoptrace.traces.SpanRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Re-decides the {@code inferred} links of span logs with the whole record, offline.
 *
 * <p>Edges by span id are exact and kept: a callee's SERVER span names the caller's CLIENT span as
 * its parent. What is re-decided is the CLIENT span's own parent, per service, wherever the proxy
 * had to guess ({@code inferred}, or {@code root} while requests were in flight). The record is
 * replayed twice through the same {@link LearnedRule} the proxy runs: the first pass learns from
 * every exact link of the whole log (before and after each guess, which the proxy could not), the
 * second re-decides each guess at the call's start and refines it at the call's end, when the
 * candidates that ended before the call was answered are ruled out. Each changed CLIENT span takes
 * its new parent's trace id and so does its whole subtree; every re-decided span gets a {@code
 * hoptrace.reconciled} tag with the new confidence.
 */
public final class Reconciler {
  private final Duration grace;

  Reconciler(Builder b) {
    this.grace = b.grace;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** What one re-decided CLIENT span becomes: its parent span (null: a root) and confidence. */
  record Verdict(@Nullable SpanRecord parent, String tag) {}

  /** Returns every span, the re-decided ones and their subtrees rewritten. */
  public List<SpanRecord> reconcile(List<SpanRecord> spans) {
    Map<String, List<SpanRecord>> byService = new HashMap<>();
    for (SpanRecord s : spans) {
      byService.computeIfAbsent(s.serviceName(), k -> new ArrayList<>()).add(s);
    }
    Map<String, SpanRecord> calleeOf = new HashMap<>();
    for (SpanRecord s : spans) {
      if ("SERVER".equals(s.kind()) && s.parentId() != null) calleeOf.put(s.parentId(), s);
    }
    Map<String, Verdict> verdicts = new HashMap<>();
    for (List<SpanRecord> service : byService.values()) {
      LearnedRule rule = LearnedRule.newBuilder().build();
      Histogram afterCall = new Histogram();
      replay(service, rule, afterCall, calleeOf, null); // learn from the whole record
      replay(service, rule, afterCall, calleeOf, verdicts); // re-decide with it
    }
    return rewrite(spans, verdicts);
  }

  private record Event(long micros, int order, SpanRecord span) {}

  private static final int BEGIN = 0;
  private static final int CALL = 1;
  private static final int CALL_END = 2;
  private static final int END = 3;

  /**
   * How long after a call is answered its request ends, from the exact links: the evidence the
   * proxy never has, since a request's end lies in the future when its calls are decided. Log-scale
   * bins (×√2 from 50 µs), lightly smoothed.
   */
  static final class Histogram {
    static final int BINS = 48;
    final double[] counts = new double[BINS];
    double total;

    static int bin(long micros) {
      if (micros < 50) return 0;
      return Math.min(BINS - 1, 1 + (int) Math.floor(2 * Math.log(micros / 50.0) / Math.log(2)));
    }

    static double width(int b) {
      double lo = b == 0 ? 0 : 50 * Math.pow(Math.sqrt(2), b - 1);
      return 50 * Math.pow(Math.sqrt(2), b) - lo;
    }

    void add(long micros) {
      counts[bin(Math.max(0, micros))]++;
      total++;
    }

    /** Density per µs, with a floor so that nothing is impossible. */
    double density(long micros) {
      int b = bin(Math.max(0, micros));
      return (counts[b] + 0.05) / (total + 0.05 * BINS) / width(b);
    }

    /** The mean density over the histogram itself: what an unrelated span scores on average. */
    double typical() {
      double sum = 0;
      for (int b = 0; b < BINS; b++) {
        double frac = (counts[b] + 0.05) / (total + 0.05 * BINS);
        sum += frac * frac / width(b);
      }
      return sum;
    }
  }

  private void replay(
      List<SpanRecord> spans,
      LearnedRule rule,
      Histogram afterCall,
      Map<String, SpanRecord> calleeOf,
      @Nullable Map<String, Verdict> verdicts) {
    List<Event> events = new ArrayList<>(spans.size() * 2);
    long origin = Long.MAX_VALUE;
    for (SpanRecord s : spans) {
      boolean server = "SERVER".equals(s.kind());
      boolean client = "CLIENT".equals(s.kind());
      if (!server && !client) continue;
      origin = Math.min(origin, s.timestampMicros());
      events.add(new Event(s.timestampMicros(), server ? BEGIN : CALL, s));
      events.add(new Event(s.endMicros(), server ? END : CALL_END, s));
    }
    if (events.isEmpty()) return;
    events.sort(
        (a, b) ->
            a.micros != b.micros
                ? Long.compare(a.micros, b.micros)
                : Integer.compare(a.order, b.order));
    ManualTicker ticker = new ManualTicker();
    long base = ticker.read() - origin * 1000;
    InboundRegistry registry =
        InboundRegistry.newBuilder()
            .generations(3)
            .period(Duration.ofMinutes(10))
            .capPerGeneration(1 << 22)
            .grace(grace)
            .ticker(ticker)
            .listener(rule)
            .valueTokens(rule.valueSharing()) // the logged paths' values (queries are not logged)
            .build();
    Correlator correlator = new Correlator(registry, rule);
    Map<String, InboundRequest> requests = new HashMap<>();
    IdentityHashMap<InboundRequest, SpanRecord> serverOf = new IdentityHashMap<>();
    Map<String, Decision> open = new HashMap<>();
    for (Event e : events) {
      long now = base + e.micros * 1000;
      if (now - ticker.read() > 0) ticker.advance(now - ticker.read());
      SpanRecord s = e.span;
      switch (e.order) {
        case BEGIN -> {
          InboundRequest r =
              registry.begin(context(s), route(s), s.tag("http.request_id"), null, now);
          registry.delivered(r, now);
          requests.put(s.id(), r);
          serverOf.put(r, s);
        }
        case END -> {
          InboundRequest r = requests.remove(s.id());
          if (r != null) registry.end(r, now);
        }
        case CALL -> {
          OutboundCall call = call(s, now);
          Link link = link(s.tag("hoptrace.link"));
          InboundRequest exact = s.parentId() == null ? null : requests.get(s.parentId());
          if (link != null && link.compareTo(Link.SOLE) <= 0 && exact != null) {
            correlator.learn(call, exact, link);
            if (verdicts == null) {
              SpanRecord owner = serverOf.get(exact);
              // from the CLIENT span's end: the offsets learned this way separate candidates
              // better (measured on the docs/accuracy.md logs) than from the callee's end
              if (owner != null) afterCall.add(owner.endMicros() - s.endMicros());
            }
          } else if (link == Link.INFERRED || (link == Link.ROOT && candidates(s) > 0)) {
            open.put(s.id(), correlator.decide(call));
          } else if (link == Link.ROOT) {
            correlator.decide(call); // nothing in flight: background evidence
          }
        }
        default -> {
          Decision d = open.remove(s.id());
          if (d != null) {
            correlator.refine(d, now); // keeps the rule's bookkeeping of open calls
            if (verdicts != null) {
              verdicts.put(s.id(), verdict(d, s, calleeOf.get(s.id()), serverOf, afterCall));
            }
          }
        }
      }
    }
  }

  /**
   * When the call was answered, as well as the logs tell: the end of the CLIENT span, or the end of
   * the callee's SERVER span (the exact span-id edge) when that is earlier. Both are noted by a
   * proxy's completion callback, which a starved CPU can delay past the moment the app got its
   * answer, and even past the end of the request that made the call; the earlier is the tighter.
   */
  static long answered(SpanRecord client, @Nullable SpanRecord callee) {
    if (callee == null || callee.endMicros() <= client.timestampMicros()) return client.endMicros();
    return Math.min(client.endMicros(), callee.endMicros());
  }

  /**
   * The offline decision for one guessed call: each candidate's likelihood at the call's start
   * (from the learned rule), zero if it ended before the call was answered (a synchronous call
   * cannot outlive its request), times the density of the time from the answer to the candidate's
   * end as learned from the exact links; background keeps its rate times the typical density.
   */
  private static Verdict verdict(
      Decision d,
      SpanRecord client,
      @Nullable SpanRecord callee,
      IdentityHashMap<InboundRequest, SpanRecord> serverOf,
      Histogram afterCall) {
    var alt = d.alternatives();
    if (alt == null) {
      InboundRequest r = d.inbound();
      return new Verdict(
          r == null ? null : serverOf.get(r), d.link() == Link.ROOT ? "root" : "p=?");
    }
    double total = alt.background() * afterCall.typical();
    double best = total;
    SpanRecord parent = null;
    boolean onlineByValue = sharedByOne(client.tag("hoptrace.score"));
    for (int i = 0; i < alt.size(); i++) {
      SpanRecord server = serverOf.get(alt.request(i));
      if (server == null) continue;
      long after = server.endMicros() - answered(client, callee);
      if (after < 0) continue;
      if (onlineByValue && server.id().equals(client.parentId())) {
        // The proxy saw the call carry a value only this candidate had (value=1), in a query the
        // log does not keep: stronger than anything timing adds here, so it stands.
        return new Verdict(server, "p=" + onlineP(client.tag("hoptrace.score")) + ",value=1");
      }
      double l = alt.likelihood(i) * afterCall.density(after);
      total += l;
      if (l > best) {
        best = l;
        parent = server;
      }
    }
    if (total <= 0) return new Verdict(null, "root");
    String p = "p=" + String.format(Locale.ROOT, "%.3f", best / total);
    return new Verdict(parent, parent == null ? "root," + p : p);
  }

  /** Whether an online score says exactly one candidate shared the call's value. */
  static boolean sharedByOne(@Nullable String score) {
    return score != null && (score.endsWith(",value=1") || score.contains(",value=1,"));
  }

  private static String onlineP(@Nullable String score) {
    int i = score == null ? -1 : score.indexOf("p=");
    if (i < 0) return "?";
    int end = score.indexOf(',', i);
    return score.substring(i + 2, end < 0 ? score.length() : end);
  }

  private static int candidates(SpanRecord s) {
    String c = s.tag("hoptrace.candidates");
    try {
      return c == null ? 0 : Integer.parseInt(c);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static @Nullable Link link(@Nullable String tag) {
    if (tag == null) return null;
    try {
      return Link.valueOf(tag.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String route(SpanRecord s) {
    String method = s.tag("http.method");
    String path = s.tag("http.path");
    if (method != null && path != null) return method + " " + path;
    return s.name();
  }

  private static OutboundCall call(SpanRecord s, long now) {
    String authority = s.tag("peer.address");
    if (authority == null) authority = s.remoteIp() + ":" + s.remotePort();
    String method = s.tag("http.method");
    String path = s.tag("http.path");
    return OutboundCall.newBuilder()
        .authority(authority)
        .method(method == null ? "GET" : method)
        .path(path == null ? "/" : path)
        .startNanos(now)
        .build();
  }

  private static TraceContext context(SpanRecord s) {
    String t = s.traceId();
    long high = t.length() == 32 ? HexCodec.parseLowerHex(t, 0, 16) : 0;
    long low = HexCodec.parseLowerHex(t, t.length() - 16, t.length());
    return TraceContext.newBuilder()
        .traceId(high, low == 0 && high == 0 ? 1 : low)
        .spanId(nonZero(HexCodec.parseLowerHex(s.id(), 0, s.id().length())))
        .build();
  }

  private static long nonZero(long v) {
    return v == 0 ? 1 : v;
  }

  // ---- rewriting ----

  private static List<SpanRecord> rewrite(List<SpanRecord> spans, Map<String, Verdict> verdicts) {
    Map<String, SpanRecord> byId = new HashMap<>();
    for (SpanRecord s : spans) byId.put(s.id(), s);
    Map<String, String> parentOf = new HashMap<>();
    for (SpanRecord s : spans) {
      Verdict v = verdicts.get(s.id());
      String parent = v != null ? (v.parent() == null ? null : v.parent().id()) : s.parentId();
      if (parent != null) parentOf.put(s.id(), parent);
    }
    Map<String, String> traceOf = new HashMap<>();
    List<SpanRecord> out = new ArrayList<>(spans.size());
    for (SpanRecord s : spans) {
      String trace = trace(s, byId, parentOf, traceOf, verdicts);
      Verdict v = verdicts.get(s.id());
      String parent = parentOf.get(s.id());
      boolean sameParent = java.util.Objects.equals(parent, s.parentId());
      if (trace.equals(s.traceId()) && sameParent && v == null) {
        out.add(s);
        continue;
      }
      String line = s.line();
      line = replaceValue(line, "traceId", s.traceId(), trace);
      if (!sameParent) line = setParent(line, s, parent);
      if (v != null) line = addTag(line, "hoptrace.reconciled", v.tag());
      SpanRecord rewritten = SpanRecord.parse(line);
      out.add(rewritten != null ? rewritten : s);
    }
    return out;
  }

  /** The trace id a span ends up in: its root's, following the (re-decided) parents. */
  private static String trace(
      SpanRecord s,
      Map<String, SpanRecord> byId,
      Map<String, String> parentOf,
      Map<String, String> traceOf,
      Map<String, Verdict> verdicts) {
    List<SpanRecord> path = new ArrayList<>();
    SpanRecord at = s;
    String trace = null;
    for (int guard = 0; guard < 10_000; guard++) {
      String known = traceOf.get(at.id());
      if (known != null) {
        trace = known;
        break;
      }
      path.add(at);
      String parent = parentOf.get(at.id());
      SpanRecord p = parent == null ? null : byId.get(parent);
      if (p == null) {
        Verdict v = verdicts.get(at.id());
        // a span made a root here starts its own trace, named after its span id
        trace =
            v != null && v.parent() == null && at.parentId() != null
                ? "0000000000000000" + at.id()
                : at.traceId();
        break;
      }
      at = p;
    }
    if (trace == null) trace = s.traceId();
    for (SpanRecord x : path) traceOf.put(x.id(), trace);
    return trace;
  }

  private static String replaceValue(String line, String key, String old, String now) {
    if (old.equals(now)) return line;
    String from = "\"" + key + "\":\"" + old + "\"";
    int i = line.indexOf(from);
    if (i < 0) return line;
    return line.substring(0, i)
        + "\""
        + key
        + "\":\""
        + now
        + "\""
        + line.substring(i + from.length());
  }

  private static String setParent(String line, SpanRecord s, @Nullable String parent) {
    String old = s.parentId();
    if (old != null) {
      String from = "\"parentId\":\"" + old + "\"";
      int i = line.indexOf(from);
      if (i < 0) return line;
      if (parent != null) {
        return line.substring(0, i)
            + "\"parentId\":\""
            + parent
            + "\""
            + line.substring(i + from.length());
      }
      int end = i + from.length();
      if (end < line.length() && line.charAt(end) == ',') end++;
      return line.substring(0, i) + line.substring(end);
    }
    if (parent == null) return line;
    String id = "\"id\":\"" + s.id() + "\"";
    int i = line.indexOf(id);
    if (i < 0) return line;
    int at = i + id.length();
    return line.substring(0, at) + ",\"parentId\":\"" + parent + "\"" + line.substring(at);
  }

  private static String addTag(String line, String key, String value) {
    String tags = "\"tags\":{";
    int i = line.indexOf(tags);
    String entry = "\"" + key + "\":\"" + value + "\"";
    if (i < 0) {
      int end = line.lastIndexOf('}');
      return line.substring(0, end) + ",\"tags\":{" + entry + "}" + line.substring(end);
    }
    int at = i + tags.length();
    boolean empty = at < line.length() && line.charAt(at) == '}';
    return line.substring(0, at) + entry + (empty ? "" : ",") + line.substring(at);
  }

  /** Builds a {@link Reconciler}. */
  public static final class Builder {
    Duration grace = Duration.ofSeconds(2);

    Builder() {}

    /** The proxy's correlator.grace (default 2 s): the replay must match it. */
    public Builder grace(Duration grace) {
      this.grace = java.util.Objects.requireNonNull(grace, "grace");
      return this;
    }

    public Reconciler build() {
      return new Reconciler(this);
    }
  }
}
