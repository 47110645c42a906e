package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.Link;
import io.hoptrace.proxy.spanlog.ThreadSpanBuilder;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.hoptrace.span.IntTexts;
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
  final @Nullable Decision decision;
  final @Nullable Correlator correlator;

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
    this(
        context,
        link,
        candidates,
        score,
        0,
        method,
        path,
        target,
        startMicros,
        startNanos,
        null,
        null);
  }

  /**
   * With how many were in flight before /proc narrowed them (0: not narrowed), and the decision and
   * its correlator, so the span can be {@link #refined} when it ends.
   */
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
      long startNanos,
      @Nullable Decision decision,
      @Nullable Correlator correlator) {
    this.inFlight = inFlight;
    this.context = requireNonNull(context, "context");
    this.decision = decision;
    this.correlator = correlator;
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
   * The hop of a call the correlator decided: the CLIENT span's context a child of the decided
   * parent ({@link CorrelateHandler#clientContext}), the decision's evidence, and the decision
   * itself for {@link #refined}.
   */
  static ClientHop decided(
      Decision decision,
      @Nullable String appRequestId,
      String method,
      String path,
      OutboundTarget target,
      long startMicros,
      long startNanos,
      Correlator correlator) {
    return new ClientHop(
        CorrelateHandler.clientContext(decision, appRequestId),
        decision.link().tagValue(),
        decision.candidates(),
        decision.link() == Link.INFERRED ? decision.score() : null,
        decision.narrowed() ? decision.inFlight() : 0,
        method,
        path,
        target,
        startMicros,
        startNanos,
        decision,
        correlator);
  }

  /**
   * When the callee's response headers reached the proxy (ticker), or 0. The refinement rules out
   * candidates that ended before this moment, not before the exchange completed: the app cannot
   * have finished its request before it had the answer, but on a starved CPU the exchange's
   * completion can be noted after the app has already answered its own caller.
   */
  private volatile long respondedNanos;

  void responded() {
    if (correlator != null && looksAtTheEnd() && respondedNanos == 0) {
      respondedNanos = correlator.registry().ticker().read();
    }
  }

  /**
   * Whether {@link Correlator#refine} reads the call's end: for an inferred decision only (the
   * others are final), so the other calls (header, sole, root: most) read no clock for it.
   */
  private boolean looksAtTheEnd() {
    return decision != null && decision.link() == Link.INFERRED;
  }

  /**
   * This hop as the correlator sees it now that the call has ended ({@link Correlator#refine}):
   * when the decision changes, the CLIENT span keeps its id (the callee's SERVER span already names
   * it as parent) and takes the new parent and its trace; the score says it was refined.
   */
  ClientHop refined() {
    if (decision == null || correlator == null) return this;
    long end = 0; // not read unless inferred
    if (looksAtTheEnd()) {
      long responded = respondedNanos;
      end = responded != 0 ? responded : correlator.registry().ticker().read();
    }
    Decision now = correlator.refine(decision, end);
    TraceContext parent = now.parent();
    if (now == decision || parent == null) return this;
    TraceContext moved =
        context.toBuilder()
            .traceId(parent.traceIdHigh(), parent.traceIdLow())
            .parentId(parent.spanId())
            .build();
    return new ClientHop(
        moved,
        link,
        candidates,
        now.score(),
        inFlight,
        method,
        path,
        target,
        startMicros,
        startNanos,
        null,
        null);
  }

  /**
   * The span line's builder, filled with everything known at the start; the caller adds the end.
   */
  Span.Builder spanBuilder(String serviceName, @Nullable String remoteIp) {
    return spanBuilder(Span.newBuilder(), serviceName, remoteIp);
  }

  /** As {@link #spanBuilder(String, String)}, filling {@code empty} (a reused builder). */
  Span.Builder spanBuilder(Span.Builder empty, String serviceName, @Nullable String remoteIp) {
    return spanBuilder(empty, serviceName, remoteIp, System.nanoTime(), spanName());
  }

  /** {@code method path}, the method lower-cased. */
  String spanName() {
    return method.toLowerCase(Locale.ROOT) + " " + path;
  }

  /**
   * As above, the call having ended at {@code endNanos} ({@link System#nanoTime}), named {@code
   * name} ({@link #spanName}, or the same from a {@link SpanNames}).
   */
  Span.Builder spanBuilder(
      Span.Builder empty,
      String serviceName,
      @Nullable String remoteIp,
      long endNanos,
      String name) {
    Span.Builder b =
        empty
            .context(context)
            .kind(Kind.CLIENT)
            .name(name)
            .timestampMicros(startMicros)
            .durationMicros(Math.max(1, (endNanos - startNanos) / 1000))
            .serviceName(serviceName)
            .remoteEndpoint(remoteIp, target.port())
            .tag("http.method", method)
            .tag("http.path", path);
    if (context.requestId() != null) b.tag("http.request_id", context.requestId());
    if (target.route() != null) b.tag("hoptrace.route", target.route());
    b.tag("peer.address", target.authority());
    return b;
  }

  /**
   * The whole CLIENT span line of a call that has ended, in this thread's builder: what {@link
   * #spanBuilder} gives, the status, the {@code error} tag ({@code failure}'s, or the status from
   * 500 up) and the attribution.
   */
  Span.Builder endedSpan(
      String serviceName,
      @Nullable String remoteIp,
      long endNanos,
      String name,
      int status,
      @Nullable UpstreamFailure failure) {
    Span.Builder b =
        spanBuilder(ThreadSpanBuilder.get(), serviceName, remoteIp, endNanos, name)
            .tag("http.status_code", IntTexts.of(status));
    if (failure != null) {
      b.tag("error", failure.errorTag());
    } else if (status >= 500) {
      b.tag("error", IntTexts.of(status));
    }
    return attribution(b, this);
  }

  /** The attribution tags, last on the line (DESIGN.md: never omitted). */
  static Span.Builder attribution(Span.Builder b, ClientHop hop) {
    b.tag("hoptrace.link", hop.link).tag("hoptrace.candidates", IntTexts.of(hop.candidates));
    if (hop.score != null) b.tag("hoptrace.score", hop.score);
    // Narrowed by /proc: hoptrace.candidates counts the calling worker's requests, this all of
    // them.
    if (hop.inFlight > 0) b.tag("hoptrace.inflight", Integer.toString(hop.inFlight));
    return b;
  }
}
