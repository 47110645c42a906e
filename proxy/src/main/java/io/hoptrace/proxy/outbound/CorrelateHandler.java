package io.hoptrace.proxy.outbound;

import static java.util.Objects.requireNonNull;

import com.codahale.metrics.Counter;
import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.Correlator;
import io.hoptrace.correlation.Decision;
import io.hoptrace.correlation.Link;
import io.hoptrace.correlation.OutboundCall;
import io.hoptrace.propagation.CompositeExtractor;
import io.hoptrace.propagation.requestid.RequestIdCodec;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.upstream.Carriers;
import io.hoptrace.span.EpochMicros;
import io.hoptrace.store.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Methods;
import java.util.EnumMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Stage 4: which inbound request caused this call? Reads whatever context the app sent (it may have
 * forwarded the traceparent hoptrace gave it, its own tracer's, or only a request id), asks the
 * {@link Correlator}, and attaches the CLIENT span's context: a child of the chosen parent, or a
 * new root. The evidence ({@code hoptrace.link}, {@code hoptrace.candidates}, {@code
 * hoptrace.score}) goes on the span.
 *
 * <p>Runs on the I/O thread when the stages before it stayed there (an address-literal target); a
 * decision that would consult the blocking process evidence is then made on a worker thread.
 *
 * <p>The app is the caller here and it is local, so its headers are trusted: a traceparent from its
 * own tracer is continued, never restarted.
 */
final class CorrelateHandler implements HttpHandler {
  private final Correlator correlator;
  private final CompositeExtractor extractor;
  private final Map<Link, Counter> linkCounters = new EnumMap<>(Link.class);
  private final HttpHandler next;

  CorrelateHandler(
      Correlator correlator, CompositeExtractor extractor, ProxyMetrics metrics, HttpHandler next) {
    this.correlator = requireNonNull(correlator, "correlator");
    this.extractor = requireNonNull(extractor, "extractor");
    for (Link link : Link.values()) {
      linkCounters.put(link, metrics.counter("hoptrace.outbound.link." + link.tagValue()));
    }
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    long startNanos = System.nanoTime();
    long startMicros = EpochMicros.at(startNanos);
    OutboundTarget target = requireNonNull(exchange.getAttachment(OutboundAttachments.TARGET));
    String method = exchange.getRequestMethod().toString();
    Ticker ticker = correlator.registry().ticker(); // System.nanoTime in the proxy: read once
    String path =
        exchange.getRequestMethod().equals(Methods.CONNECT)
            ? target.authority()
            : exchange.getRequestURI();

    // Trusted (the app is local): its context is continued, whatever it is. Only the parent and
    // the request id are used, so no Extraction is made (none at all when no context came).
    HeaderMap headers = exchange.getRequestHeaders();
    String appRequestId = extractor.requestId(headers, Carriers.UNDERTOW_GETTER);
    TraceContext forwarded =
        extractor.trustedParent(headers, Carriers.UNDERTOW_GETTER, appRequestId);
    OutboundCall call =
        OutboundCall.of(
            forwarded,
            appRequestId,
            target.authority(),
            method,
            path,
            exchange.getQueryString(),
            ticker.readAt(startNanos),
            exchange.getAttachment(OutboundAttachments.APP_SOCKET));
    Decision decision;
    if (exchange.isInIoThread()) {
      // Header, sole and root decisions are cheap: made here, without a hop to a worker thread.
      // Only one that asks the process evidence (which reads /proc) moves to a worker and starts
      // over there (this attempt recorded nothing).
      Decision cheap = correlator.decideWithoutBlocking(call);
      if (cheap == null) {
        exchange.dispatch(this);
        return;
      }
      decision = cheap;
    } else {
      decision = correlator.decide(call);
    }

    linkCounters.get(decision.link()).inc();
    exchange.putAttachment(
        OutboundAttachments.HOP,
        ClientHop.decided(
            decision, appRequestId, method, path, target, startMicros, startNanos, correlator));
    next.handleRequest(exchange);
  }

  /**
   * A child of the decided parent, carrying the request id the callee should see: the inbound
   * request's when linked to one, else what the app sent, else a new one.
   */
  static TraceContext clientContext(Decision decision, @Nullable String appRequestId) {
    TraceContext parent = decision.parent();
    String requestId = null;
    if (decision.inbound() != null) requestId = decision.inbound().requestId();
    if (requestId == null && parent != null) requestId = parent.requestId();
    if (requestId == null) requestId = appRequestId;
    if (requestId == null) requestId = RequestIdCodec.newRequestId();
    if (parent == null) return TraceContext.newRoot(requestId);
    return parent.newChild(requestId);
  }
}
