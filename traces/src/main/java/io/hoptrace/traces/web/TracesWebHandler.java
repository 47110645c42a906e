package io.hoptrace.traces.web;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.hoptrace.traces.SpanRecord;
import io.hoptrace.traces.Trace;
import io.hoptrace.traces.TraceAssembler;
import io.hoptrace.traces.TraceFilter;
import io.hoptrace.traces.TraceJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The waterfall page and its JSON API as plain request → response logic, so any HTTP server can
 * serve it: the JDK server for {@code hoptrace traces --serve}, the proxy's admin port (Undertow)
 * for the spans that process wrote. Paths are relative to where the page is mounted:
 *
 * <ul>
 *   <li>{@code /} — the page (one self-contained HTML file: no CDN, no build step);
 *   <li>{@code /api/traces?q=&service=&minDuration=&status=&limit=} — trace summaries, most recent
 *       first ({@code q} is a trace id, a prefix of one, or a request id; {@code minDuration} in
 *       microseconds or with a unit: {@code 250ms});
 *   <li>{@code /api/traces/{id}} — one trace with its spans in waterfall order.
 * </ul>
 */
public final class TracesWebHandler {
  static final int DEFAULT_LIMIT = 200;
  static final int MAX_LIMIT = 5_000;
  private static final String PAGE_RESOURCE = "waterfall.html";

  private final TraceSource source;
  private final byte[] page;

  public TracesWebHandler(TraceSource source) {
    this.source = requireNonNull(source, "source");
    this.page = loadPage();
  }

  /** A response: status, content type and body. */
  public static final class Response {
    private final int status;
    private final String contentType;
    private final byte[] body;

    Response(int status, String contentType, byte[] body) {
      this.status = status;
      this.contentType = contentType;
      this.body = body;
    }

    static Response json(int status, String json) {
      return new Response(status, "application/json; charset=utf-8", json.getBytes(UTF_8));
    }

    public int status() {
      return status;
    }

    public String contentType() {
      return contentType;
    }

    /** The body bytes (a copy). */
    public byte[] body() {
      return body.clone();
    }

    /** The body as text. */
    public String bodyText() {
      return new String(body, UTF_8);
    }
  }

  /**
   * Answers a request. {@code path} is relative to the mount point and excludes the query; {@code
   * rawQuery} is the undecoded query string or null. Only GET and HEAD are served.
   */
  public Response handle(
      String method, String path, @org.jspecify.annotations.Nullable String rawQuery) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return Response.json(405, "{\"error\":\"method not allowed\"}");
    }
    if (path.isEmpty() || path.equals("/") || path.equals("/index.html")) return page();
    if (path.equals("/api/traces") || path.equals("/api/traces/")) {
      return list(parseQuery(rawQuery));
    }
    if (path.startsWith("/api/traces/")) return trace(path.substring("/api/traces/".length()));
    return Response.json(404, "{\"error\":\"not found\"}");
  }

  /** The page. */
  public Response page() {
    return new Response(200, "text/html; charset=utf-8", page);
  }

  /** {@code /api/traces}: summaries matching the parameters (see the class comment). */
  public Response list(Map<String, String> params) {
    TraceFilter.Builder filter = TraceFilter.newBuilder();
    filter.query(params.get("q"));
    String service = params.get("service");
    if (service != null && !service.isBlank()) filter.service(service.strip());
    String min = params.get("minDuration");
    if (min != null && !min.isBlank()) {
      long micros = parseMicros(min);
      if (micros < 0) {
        return Response.json(400, "{\"error\":\"minDuration: expected microseconds or 250ms\"}");
      }
      filter.minDurationMicros(micros);
    }
    String status = params.get("status");
    if (status != null && !status.isBlank()) {
      try {
        filter.status(TraceFilter.Status.valueOf(status.strip().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        return Response.json(400, "{\"error\":\"status: expected ok, error or any\"}");
      }
    }
    int limit = DEFAULT_LIMIT;
    String l = params.get("limit");
    if (l != null && !l.isBlank()) {
      try {
        limit = Math.max(1, Math.min(MAX_LIMIT, Integer.parseInt(l.strip())));
      } catch (NumberFormatException e) {
        return Response.json(400, "{\"error\":\"limit: expected a number\"}");
      }
    }
    List<SpanRecord> spans = source.spans();
    TraceFilter f = filter.build();
    List<Trace> matching = new ArrayList<>();
    for (Trace t : TraceAssembler.assemble(spans)) {
      if (f.matches(t)) matching.add(t);
    }
    List<Trace> shown = matching.subList(0, Math.min(limit, matching.size()));
    return Response.json(200, TraceJson.list(shown, matching.size(), spans.size(), 0));
  }

  /** {@code /api/traces/{id}}: one trace; a unique prefix or a request id also finds it. */
  public Response trace(String id) {
    String q = URLDecoder.decode(id, UTF_8).strip();
    if (q.isEmpty() || q.length() > 128) return Response.json(400, "{\"error\":\"trace id\"}");
    TraceFilter f = TraceFilter.newBuilder().query(q).build();
    List<Trace> found = new ArrayList<>();
    for (Trace t : TraceAssembler.assemble(source.spans())) {
      if (f.matches(t)) found.add(t);
    }
    for (Trace t : found) {
      if (t.traceId().equals(q.toLowerCase(Locale.ROOT)))
        return Response.json(200, TraceJson.trace(t));
    }
    if (found.size() == 1) return Response.json(200, TraceJson.trace(found.get(0)));
    if (found.isEmpty()) return Response.json(404, "{\"error\":\"no such trace\"}");
    return Response.json(409, "{\"error\":\"ambiguous: " + found.size() + " traces match\"}");
  }

  /** Decodes {@code a=1&b=2}; the last value of a repeated key wins. */
  public static Map<String, String> parseQuery(@org.jspecify.annotations.Nullable String rawQuery) {
    Map<String, String> out = new HashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) return out;
    for (String pair : rawQuery.split("&", 64)) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        out.put(URLDecoder.decode(k, UTF_8), URLDecoder.decode(v, UTF_8));
      } catch (IllegalArgumentException e) {
        // A malformed escape: ignore the pair, as browsers do for junk in a query.
      }
    }
    return out;
  }

  /** Microseconds from {@code 1500} (us), {@code 250ms}, {@code 2s}; -1 when not a duration. */
  static long parseMicros(String text) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (s.endsWith("ms")) {
      unit = 1_000;
      s = s.substring(0, s.length() - 2);
    } else if (s.endsWith("us")) {
      s = s.substring(0, s.length() - 2);
    } else if (s.endsWith("s")) {
      unit = 1_000_000;
      s = s.substring(0, s.length() - 1);
    }
    try {
      double v = Double.parseDouble(s.strip());
      if (v < 0 || Double.isNaN(v) || v > 1e15) return -1;
      return Math.round(v * unit);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static byte[] loadPage() {
    try (InputStream in = TracesWebHandler.class.getResourceAsStream(PAGE_RESOURCE)) {
      if (in == null) throw new IllegalStateException("missing resource " + PAGE_RESOURCE);
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
