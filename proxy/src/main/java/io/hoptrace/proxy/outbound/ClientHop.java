package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One outbound call as the correlator decided it: the CLIENT span's context (a child of the chosen
 * parent, or a new root), the evidence for the link, and what the span line needs at the end.
 * Created by the correlate stage; turned into a span once the exchange or tunnel completes.
 */
final class ClientHop {
  final TraceContext context;
  final String link;
  final int candidates;
  final @Nullable String score;

  /** In flight before /proc narrowed the candidates ({@code hoptrace.inflight}); 0 if not. */
  final int inFlight;

  final String method;
  final String path;
  final OutboundTarget target;
  final long startMicros;
  final long startNanos;

  ClientHop(
      TraceContext context,
      String link,
      int candidates,
      @Nullable String score,
      String method,
      String path,
      OutboundTarget target,
      long startMicros,
      long startNanos) {
    this(context, link, candidates, score, 0, method, path, target, startMicros, startNanos);
  }

  ClientHop(
      TraceContext context,
      String link,
      int candidates,
      @Nullable String score,
      int inFlight,
      String method,
      String path,
      OutboundTarget target,
      long startMicros,
      long startNanos) {
    this.inFlight = inFlight;
    this.context = requireNonNull(context, "context");
    this.link = requireNonNull(link, "link");
    this.candidates = candidates;
    this.score = score;
    this.method = requireNonNull(method, "method");
    this.path = requireNonNull(path, "path");
    this.target = requireNonNull(target, "target");
    this.startMicros = startMicros;
    this.startNanos = startNanos;
  }

  /**
   * The span line's builder, filled with everything known at the start; the caller adds the end.
   */
  Span.Builder spanBuilder(String serviceName, @Nullable String remoteIp) {
    Span.Builder b =
        Span.newBuilder()
            .context(context)
            .kind(Kind.CLIENT)
            .name(method.toLowerCase(Locale.ROOT) + " " + path)
            .timestampMicros(startMicros)
            .durationMicros(Math.max(1, (System.nanoTime() - startNanos) / 1000))
            .serviceName(serviceName)
            .remoteEndpoint(remoteIp, target.port())
            .tag("http.method", method)
            .tag("http.path", path);
    if (context.requestId() != null) b.tag("http.request_id", context.requestId());
    if (target.route() != null) b.tag("hoptrace.route", target.route());
    b.tag("peer.address", target.authority());
    return b;
  }

  /** The attribution tags, last on the line (DESIGN.md: never omitted). */
  static Span.Builder attribution(Span.Builder b, ClientHop hop) {
    b.tag("hoptrace.link", hop.link).tag("hoptrace.candidates", Integer.toString(hop.candidates));
    if (hop.score != null) b.tag("hoptrace.score", hop.score);
    // Narrowed by /proc: hoptrace.candidates counts the calling worker's requests, this all of
    // them.
    if (hop.inFlight > 0) b.tag("hoptrace.inflight", Integer.toString(hop.inFlight));
    return b;
  }
}
