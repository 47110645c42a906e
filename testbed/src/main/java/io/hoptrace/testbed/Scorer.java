package io.hoptrace.testbed;

import io.hoptrace.traces.SpanRecord;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Joins the apps' ground truth with what the callees received and what the span logs say.
 *
 * <p>A call made for inbound request X of service S is right <em>online</em> when its callee
 * received X's trace id (what hoptrace injected when the call started); right <em>in the span</em>
 * when the CLIENT span line (refined at the end of the call) names X's SERVER span as parent; right
 * <em>after reconcile</em> when the reconciled CLIENT span does. A wrong online link is
 * <em>wrong</em> (another request's trace) or <em>missing</em> (a new trace). Calls are bucketed by
 * how many requests S was serving when it made the call (the app counts). Background calls (timers)
 * are right when they start a new trace; adopting one into a request's trace is counted.
 */
final class Scorer {
  static final String[] BUCKETS = {"1", "2-3", "4-7", "8-15", "16+"};

  static int bucket(int inFlight) {
    if (inFlight <= 1) return 0;
    if (inFlight <= 3) return 1;
    if (inFlight <= 7) return 2;
    if (inFlight <= 15) return 3;
    return 4;
  }

  /** The score of one run. */
  static final class Result {
    final String label;
    final long[] n = new long[BUCKETS.length];
    final long[] online = new long[BUCKETS.length];

    /**
     * Per bucket: online, per request ({@link #onlinePerRequest}). A wrong link upstream puts
     * several of this service's requests into one trace; the callee of any of them then "received
     * the caller's trace id". This names one request, as the refined span, reconcile and the
     * ceiling do.
     */
    final double[] onlinePerRequest = new double[BUCKETS.length];

    final long[] span = new long[BUCKETS.length];
    final long[] reconciled = new long[BUCKETS.length];

    /** Per bucket: the sum over calls of the timing-only oracle's odds ({@link Ceiling}). */
    final double[] ceiling = new double[BUCKETS.length];

    /** Per bucket: the sum over calls of how many requests were eligible for the call. */
    final long[] eligible = new long[BUCKETS.length];

    long wrong;
    long missing;
    long unmatched; // callee record or span not found (failed call)
    long background;
    long backgroundAdopted;
    long backgroundAdoptedReconciled;
    final Map<String, long[]> perHop = new TreeMap<>(); // {n, online, reconciled}
    final Map<String, Long> links = new TreeMap<>();

    /**
     * CLIENT spans whose score carries value-sharing evidence ({@code value=k}): {with k = 1, of
     * them right; k = 0 (the value ruled candidates out, none had it), right; k > 1, right}.
     */
    final long[] value = new long[6];

    /** Calibration: per tenth of p, {count, sum p, right}. */
    final double[][] calibration = new double[10][3];

    Result(String label) {
      this.label = label;
    }

    long total() {
      long t = 0;
      for (long x : n) t += x;
      return t;
    }

    static String pct(long right, long of) {
      return pct((double) right, of);
    }

    static String pct(double right, long of) {
      return of == 0 ? "–" : String.format(Locale.ROOT, "%.1f%%", 100.0 * right / of);
    }
  }

  private Scorer() {}

  /**
   * Scores a run.
   *
   * @param spans every span line of every service, by span id
   * @param reconciledSpans the same after reconcile, by span id, or null
   * @param dist the service-time distribution's kind, for the ceiling's hazards
   */
  static Result score(
      String label,
      List<Truth.Inbound> inbound,
      List<Truth.Call> calls,
      Map<String, SpanRecord> spans,
      @Nullable Map<String, SpanRecord> reconciledSpans,
      String dist) {
    Result r = new Result(label);
    Ceiling ceiling = new Ceiling(calls, dist);
    Map<String, Truth.Inbound> byGt = new HashMap<>();
    Map<String, Set<String>> tracesByService = new HashMap<>();
    Map<String, Integer> sharing = new HashMap<>(); // service + trace id -> requests holding it
    for (Truth.Inbound i : inbound) {
      byGt.put(i.gt(), i);
      tracesByService.computeIfAbsent(i.service(), s -> new HashSet<>()).add(i.traceId());
      sharing.merge(i.service() + " " + i.traceId(), 1, Integer::sum);
    }
    for (Truth.Call c : calls) {
      if (!c.measured()) continue;
      Truth.Inbound callee = byGt.get(c.gt());
      if (callee == null) {
        r.unmatched++;
        continue;
      }
      SpanRecord calleeServer = spans.get(callee.spanId());
      SpanRecord client =
          calleeServer == null || calleeServer.parentId() == null
              ? null
              : spans.get(calleeServer.parentId());
      SpanRecord reconciledClient =
          client == null || reconciledSpans == null ? null : reconciledSpans.get(client.id());
      Set<String> callerTraces = tracesByService.getOrDefault(c.caller(), Set.of());
      if (c.background()) {
        r.background++;
        if (callerTraces.contains(callee.traceId())) r.backgroundAdopted++;
        if (reconciledClient != null && reconciledClient.parentId() != null) {
          r.backgroundAdoptedReconciled++;
        }
        continue;
      }
      Truth.Inbound caller = byGt.get(c.callerGt());
      if (caller == null || client == null) {
        r.unmatched++;
        continue;
      }
      int b = bucket(c.inFlight());
      r.n[b]++;
      Ceiling.Odds odds = ceiling.of(c);
      r.ceiling[b] += odds.ceiling();
      r.eligible[b] += odds.eligible();
      boolean online = callee.traceId().equals(caller.traceId());
      String link = client.tag("hoptrace.link");
      r.onlinePerRequest[b] += onlinePerRequest(online, client, caller, link, sharing);
      if (online) {
        r.online[b]++;
      } else if (callerTraces.contains(callee.traceId())) {
        r.wrong++;
      } else {
        r.missing++;
      }
      boolean inSpan = caller.spanId().equals(client.parentId());
      if (inSpan) r.span[b]++;
      boolean rec = reconciledClient != null && caller.spanId().equals(reconciledClient.parentId());
      if (rec) r.reconciled[b]++;
      long[] hop = r.perHop.computeIfAbsent(c.caller() + "→" + c.callee(), k -> new long[3]);
      hop[0]++;
      if (online) hop[1]++;
      if (rec) hop[2]++;
      r.links.merge(link == null ? "?" : link, 1L, Long::sum);
      int shared = valueShared(client.tag("hoptrace.score"));
      if (shared >= 0) {
        int at = shared == 1 ? 0 : shared == 0 ? 2 : 4;
        r.value[at]++;
        if (inSpan) r.value[at + 1]++;
      }
      Double p = confidence(client.tag("hoptrace.score"));
      if ("inferred".equals(link) && p != null) {
        int bin = Math.min(9, (int) (p * 10));
        r.calibration[bin][0]++;
        r.calibration[bin][1] += p;
        if (inSpan) r.calibration[bin][2]++;
      }
    }
    return r;
  }

  /**
   * Online, per request: the request the proxy linked the call to when it started. The CLIENT span
   * names it unless {@code refine} moved it (an exact link, or an inferred one without {@code
   * refined=} in its score); a moved span no longer says which request it was, so a right trace id
   * earns 1/k when k of the caller's requests hold that trace.
   */
  static double onlinePerRequest(
      boolean online,
      SpanRecord client,
      Truth.Inbound caller,
      @Nullable String link,
      Map<String, Integer> sharing) {
    String score = client.tag("hoptrace.score");
    boolean moved = "inferred".equals(link) && score != null && score.contains("refined=");
    if (!moved) return caller.spanId().equals(client.parentId()) ? 1 : 0;
    if (!online) return 0;
    return 1.0 / sharing.getOrDefault(caller.service() + " " + caller.traceId(), 1);
  }

  /** The {@code value=k} of a score tag (k candidates shared the call's value), or -1. */
  static int valueShared(@Nullable String score) {
    if (score == null) return -1;
    int i = score.indexOf("value=");
    if (i < 0) return -1;
    int end = score.indexOf(',', i);
    try {
      return Integer.parseInt(score.substring(i + 6, end < 0 ? score.length() : end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The {@code p=} of a score tag such as {@code learned:p=0.834,...}, or null. */
  static @Nullable Double confidence(@Nullable String score) {
    if (score == null) return null;
    int i = score.indexOf("p=");
    if (i < 0) return null;
    int end = score.indexOf(',', i);
    try {
      return Double.parseDouble(score.substring(i + 2, end < 0 ? score.length() : end));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The headline table: one row per result and measure, one column per in-flight bucket. */
  static String table(List<Result> results) {
    StringBuilder b = new StringBuilder();
    b.append("| rule | measured as | calls |");
    for (String bucket : BUCKETS) b.append(" in flight ").append(bucket).append(" |");
    b.append(" all |\n|---|---|---:|");
    for (int i = 0; i < BUCKETS.length; i++) b.append("---:|");
    b.append("---:|\n");
    for (Result r : results) {
      row(b, r, "ceiling (timing-only, oracle)", r.ceiling);
      row(b, r, "online (callee's trace id)", r.online);
      row(b, r, "online, per request", r.onlinePerRequest);
      if (r.label.startsWith("learned")) {
        row(b, r, "CLIENT span, refined at end", r.span);
        row(b, r, "after reconcile", r.reconciled);
      }
    }
    b.append("\ncalls per bucket: ");
    for (Result r : results) {
      b.append(r.label).append(" ");
      for (int i = 0; i < BUCKETS.length; i++) b.append(i == 0 ? "" : "/").append(r.n[i]);
      b.append("; ");
    }
    b.append("\nmean eligible requests per call (the oracle's choice set): ");
    for (Result r : results) {
      b.append(r.label).append(" ");
      for (int i = 0; i < BUCKETS.length; i++) {
        b.append(i == 0 ? "" : "/")
            .append(
                r.n[i] == 0
                    ? "–"
                    : String.format(Locale.ROOT, "%.1f", (double) r.eligible[i] / r.n[i]));
      }
      b.append("; ");
    }
    b.append('\n');
    return b.toString();
  }

  private static void row(StringBuilder b, Result r, String what, long[] right) {
    double[] d = new double[right.length];
    for (int i = 0; i < right.length; i++) d[i] = (double) right[i];
    row(b, r, what, d);
  }

  private static void row(StringBuilder b, Result r, String what, double[] right) {
    double all = 0;
    b.append("| ").append(r.label).append(" | ").append(what).append(" | ").append(r.total());
    b.append(" |");
    for (int i = 0; i < BUCKETS.length; i++) {
      b.append(' ').append(Result.pct(right[i], r.n[i])).append(" |");
      all += right[i];
    }
    b.append(' ').append(Result.pct(all, r.total())).append(" |\n");
  }

  /** Per hop, wrong vs missing, background, links and calibration for one result. */
  static String details(Result r) {
    StringBuilder b = new StringBuilder();
    b.append("#### ").append(r.label).append("\n\n");
    b.append("| hop | calls | online | after reconcile |\n|---|---:|---:|---:|\n");
    r.perHop.forEach(
        (hop, v) ->
            b.append("| ")
                .append(hop)
                .append(" | ")
                .append(v[0])
                .append(" | ")
                .append(Result.pct(v[1], v[0]))
                .append(" | ")
                .append(Result.pct(v[2], v[0]))
                .append(" |\n"));
    b.append('\n');
    long wrongTotal = r.wrong + r.missing;
    b.append("online errors: ")
        .append(r.wrong)
        .append(" wrong (another request's trace), ")
        .append(r.missing)
        .append(" missing (a new trace); of ")
        .append(wrongTotal)
        .append(" errors. Unmatched (failed) calls: ")
        .append(r.unmatched)
        .append(".\n\n");
    b.append("background calls: ")
        .append(r.background)
        .append(", wrongly adopted online: ")
        .append(r.backgroundAdopted)
        .append(" (")
        .append(Result.pct(r.backgroundAdopted, r.background))
        .append("), after reconcile: ")
        .append(r.backgroundAdoptedReconciled)
        .append(".\n\n");
    b.append("links: ").append(r.links).append("\n\n");
    b.append("value-sharing evidence (CLIENT spans, refined): the call's value in 1 candidate: ")
        .append(r.value[0])
        .append(" (")
        .append(Result.pct(r.value[1], r.value[0]))
        .append(" right); in none (ruled some out): ")
        .append(r.value[2])
        .append(" (")
        .append(Result.pct(r.value[3], r.value[2]))
        .append(" right); in several: ")
        .append(r.value[4])
        .append(" (")
        .append(Result.pct(r.value[5], r.value[4]))
        .append(" right).\n\n");
    boolean any = false;
    for (double[] bin : r.calibration) any |= bin[0] > 0;
    if (any) {
      b.append("| confidence p | inferred links | mean p | share right |\n|---|---:|---:|---:|\n");
      for (int i = 0; i < 10; i++) {
        double[] bin = r.calibration[i];
        if (bin[0] == 0) continue;
        b.append(
            String.format(
                Locale.ROOT,
                "| %.1f–%.1f | %d | %.3f | %.3f |%n",
                i / 10.0,
                (i + 1) / 10.0,
                (long) bin[0],
                bin[1] / bin[0],
                bin[2] / bin[0]));
      }
      b.append('\n');
    }
    return b.toString();
  }
}
