package io.hoptrace.proxy.inbound;

import io.hoptrace.context.TraceContext;
import io.hoptrace.correlation.InboundRegistry;
import io.hoptrace.correlation.InboundRequest;
import io.hoptrace.proxy.CallerAddress;
import io.hoptrace.proxy.metrics.ProxyMetrics;
import io.hoptrace.proxy.spanlog.SpanLogWriter;
import io.hoptrace.proxy.spanlog.ThreadSpanBuilder;
import io.hoptrace.proxy.upstream.UpstreamFailure;
import io.hoptrace.span.EpochMicros;
import io.hoptrace.span.IntTexts;
import io.hoptrace.span.Kind;
import io.hoptrace.span.Span;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.net.InetSocketAddress;

/**
 * Stage 1: starts the clock and, when the exchange completes (response sent, or connection gone),
 * writes the SERVER span line and the request metrics. The span is encoded here into bytes, so the
 * writer thread keeps no request objects.
 */
final class SpanRecordingHandler implements HttpHandler {
  private static final ProxyMetrics.Hop HOP = ProxyMetrics.Hop.INBOUND;

  private final HttpHandler next;
  private final String serviceName;
  private final InboundRegistry registry;
  private final SpanLogWriter spanLog;
  private final ProxyMetrics metrics;
  private final ExchangeCompletionListener onComplete = this::complete;

  SpanRecordingHandler(
      String serviceName,
      InboundRegistry registry,
      SpanLogWriter spanLog,
      ProxyMetrics metrics,
      HttpHandler next) {
    this.serviceName = serviceName;
    this.registry = registry;
    this.spanLog = spanLog;
    this.metrics = metrics;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    long startNanos = System.nanoTime();
    exchange.putAttachment(
        InboundExchange.KEY,
        new InboundExchange(startNanos, EpochMicros.at(startNanos), CallerAddress.of(exchange)));
    metrics.requestStarted(HOP);
    exchange.addExchangeCompleteListener(onComplete);
    next.handleRequest(exchange);
  }

  private void complete(HttpServerExchange exchange, ExchangeCompletionListener.NextListener next) {
    try {
      InboundExchange state = exchange.removeAttachment(InboundExchange.KEY);
      if (state != null) {
        Upgraded upgraded = state.upgraded;
        if (upgraded == null) {
          record(exchange, state);
        } else { // a relayed WebSocket: its span when the connection ends
          upgraded.recordWhenClosed(() -> record(exchange, state));
        }
      }
    } finally {
      next.proceed();
    }
  }

  private void record(HttpServerExchange exchange, InboundExchange state) {
    long endNanos = System.nanoTime();
    long durationNanos = endNanos - state.startNanos;
    InboundRequest registered = state.registered;
    if (registered != null) { // nearly always ended already at the app's response: then a no-op
      registry.end(registered, registry.ticker().readAt(endNanos));
    }
    metrics.requestEnded(HOP);
    metrics.requestDone(HOP, durationNanos);
    UpstreamFailure failure = exchange.getAttachment(UpstreamFailure.KEY);
    if (failure != null) metrics.upstreamError(failure.kind());

    TraceContext server = state.server;
    if (server == null) return; // rejected before trace handling (e.g. while draining)
    metrics.inboundContext(state.contextTag);
    String method = exchange.getRequestMethod().toString();
    String path = exchange.getRequestPath();
    RouteKeys.Route route = state.route;
    Span.Builder span =
        ThreadSpanBuilder.get()
            .context(server)
            .kind(Kind.SERVER)
            .name(
                route != null && route.is(method, path)
                    ? route.spanName()
                    : RouteKeys.spanName(method, path))
            .timestampMicros(state.startEpochMicros)
            .durationMicros(Math.max(1, durationNanos / 1000))
            .serviceName(serviceName);
    CallerAddress caller = state.caller;
    InetSocketAddress peer = caller.address;
    if (peer != null && caller.ip != null) span.remoteEndpoint(caller.ip, peer.getPort());
    span.tag("http.method", method)
        .tag("http.path", path)
        .tag("http.status_code", IntTexts.of(exchange.getStatusCode()));
    if (failure != null) span.tag("error", failure.errorTag());
    Upgraded upgraded = state.upgraded;
    if (upgraded != null) {
      span.tag("hoptrace.upgrade", "websocket")
          .tag("hoptrace.bytes_received", Long.toString(upgraded.bytesFromCaller))
          .tag("hoptrace.bytes_sent", Long.toString(upgraded.bytesToCaller));
      if (upgraded.error != null) span.tag("error", upgraded.error);
    }
    if (state.requestId != null) span.tag("http.request_id", state.requestId);
    span.tag("hoptrace.context", state.contextTag);
    if (state.rejected != null) span.tag("hoptrace.rejected", state.rejected);
    spanLog.offer(span); // encoded here, from this thread's builder: no Span, no builder per span
  }
}
